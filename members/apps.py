from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Members")

    def ready(self):
        from members.coupons import coupon_on_order_changed
        from members.points import PointsProvider
        from members.promotions import promotion_on_order_changed
        from members.services import points_on_paid
        from orders.events import listener_register
        from orders.payments import provider_register

        listener_register(coupon_on_order_changed)
        listener_register(promotion_on_order_changed)
        listener_register(points_on_paid)
        provider_register(PointsProvider())
