"""Points as a payment method: POINTS_PER_UNIT_REDEEMED points (default 100) pay 1.00."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from orders.payments import PaymentProvider, ProviderResult


class PointsProvider(PaymentProvider):
    code = "points"
    label = _("Points")
    at_counter = True  # a member pays (or takes a product) with points at the till

    @staticmethod
    def _points(amount: Decimal) -> int:
        from members.services import points_value

        return int((amount * points_value()).to_integral_value())

    def collect(self, *, payment, reference="", data=None):
        from django.core.exceptions import ValidationError

        from members.services import points_spend

        customer = payment.order.customer
        if customer is None:
            return ProviderResult(succeeded=False, message=str(_("Points need a signed-in customer.")))
        try:
            entry = points_spend(
                customer=customer, points=self._points(payment.amount), key=f"pay:{payment.pk}", order=payment.order
            )
        except ValidationError as error:
            return ProviderResult(succeeded=False, message=" ".join(error.messages))
        return ProviderResult(succeeded=True, reference=f"points-{entry.pk}")

    def refund(self, *, refund):
        from members.services import points_give_back

        points_give_back(
            customer=refund.order.customer,
            points=self._points(refund.amount),
            key=f"refund:{refund.pk}",
            order=refund.order,
        )
        return ProviderResult(succeeded=True, reference=f"points-refund-{refund.pk}")
