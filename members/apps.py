from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


@checks.register(checks.Tags.security)
def sign_in_sms_limits_check(app_configs=None, **kwargs):
    """A mistyped SIGN_IN_SMS_* rate is found at start-up, not as a 500 on the first sign-in."""
    from django.conf import settings

    from core.services import rate_parse

    errors = []
    for scope, rates in getattr(settings, "SIGN_IN_SMS_LIMITS", {}).items():
        for rate in rates:
            try:
                rate_parse(rate)
            except ValueError as exc:
                errors.append(checks.Error(f"SIGN_IN_SMS_LIMITS[{scope!r}]: {exc}", id="members.E001"))
    return errors


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
