from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from orders.events import listener_register
        from reports.rollups import rollup_on_order_changed

        listener_register(rollup_on_order_changed)
