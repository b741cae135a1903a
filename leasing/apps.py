from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeasingConfig(AppConfig):
    name = "leasing"
    verbose_name = _("Leasing")

    def ready(self):
        from devices.commands import device_event_register, result_handler_register
        from leasing.services import DepositProvider, on_asset_returned, on_eject_result
        from orders.payments import provider_register

        provider_register(DepositProvider())
        result_handler_register("eject", on_eject_result)
        device_event_register("asset_returned", on_asset_returned)
