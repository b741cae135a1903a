from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VendingConfig(AppConfig):
    name = "vending"
    verbose_name = _("Vending")

    def ready(self):
        from devices.commands import result_handler_register
        from orders.events import transition_hook_register
        from vending.services import vend_dispense_on_paid, vend_on_dispense_result

        transition_hook_register(vend_dispense_on_paid)
        result_handler_register("dispense", vend_on_dispense_result)
