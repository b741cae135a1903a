from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ForecastsConfig(AppConfig):
    name = "forecasts"
    verbose_name = _("Demand forecasts")

    def ready(self):
        # Replenishment plans read the forecasts through a registry in vending (vending comes
        # before us), so vending never imports from this app.
        try:
            from vending.replenishment import register_demand_source
        except ImportError:
            return
        from forecasts.demand import slot_demand

        register_demand_source(slot_demand)
