from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        from members.coupons import coupon_on_order_changed
        from orders.events import listener_register

        listener_register(coupon_on_order_changed)
