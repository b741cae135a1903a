from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LockersConfig(AppConfig):
    name = "lockers"
    verbose_name = _("Lockers")

    def ready(self):
        from devices.commands import device_event_register, result_handler_register
        from lockers.bookings import locker_booking_on_paid
        from lockers.services import on_door_closed, on_door_opened, on_emptied, on_occupied, on_open_door_result
        from orders.events import transition_hook_register

        device_event_register("occupied", on_occupied)
        device_event_register("emptied", on_emptied)
        device_event_register("door_opened", on_door_opened)
        device_event_register("door_closed", on_door_closed)
        result_handler_register("open_door", on_open_door_result)
        transition_hook_register(locker_booking_on_paid)
