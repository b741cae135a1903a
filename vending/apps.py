from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendingConfig(AppConfig):
    name = "vending"
    verbose_name = _("Vending")

    def ready(self):
        from devices.commands import result_handler_register
        from orders.events import listener_register
        from vending.services import vend_on_dispense_result, vend_on_paid

        listener_register(vend_on_paid)
        result_handler_register("dispense", vend_on_dispense_result)
