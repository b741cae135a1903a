"""Points as a payment method: the region's "points that pay 1.00" (core.region_settings; the
default is POINTS_PER_UNIT_REDEEMED, 100) pay 1.00."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from orders.payments import PaymentProvider, ProviderResult


class PointsProvider(PaymentProvider):
    code = "points"
    label = _("Points")
    at_counter = True  # a member pays (or takes a product) with points at the till

    @staticmethod
    def _points(amount: Decimal, region=None) -> int:
        from members.services import points_value

        return int((amount * points_value(region)).to_integral_value())

    def collect(self, *, payment, reference="", data=None):
        from django.core.exceptions import ValidationError

        from members.paycodes import pay_code_required, pay_code_use
        from members.services import points_spend

        customer = payment.order.customer
        if customer is None:
            return ProviderResult(succeeded=False, message=str(_("Points need a signed-in customer.")))
        at_till = pay_code_required(payment)
        if at_till:  # the member consents with the payment code from their app
            pay_code_use(code=reference, order=payment.order)
        try:
            entry = points_spend(
                customer=customer,
                points=self._points(payment.amount, payment.order.region_id),
                key=f"pay:{payment.pk}",
                order=payment.order,
            )
        except ValidationError as error:
            if at_till:
                raise ValidationError({"method": error.messages}) from None
            return ProviderResult(succeeded=False, message=" ".join(error.messages))
        return ProviderResult(succeeded=True, reference=f"points-{entry.pk}")

    def refund(self, *, refund):
        from members.services import points_give_back

        points_give_back(
            customer=refund.order.customer,
            points=self._points(refund.amount, refund.order.region_id),
            key=f"refund:{refund.pk}",
            order=refund.order,
        )
        return ProviderResult(succeeded=True, reference=f"points-refund-{refund.pk}")
