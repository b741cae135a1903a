from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from orders import payments
        from orders.events import listener_register
        from orders.webhooks import webhook_on_order_changed

        payments.provider_register(payments.CashProvider())
        listener_register(webhook_on_order_changed)
