"""Payment providers the wallet app registers in the orders payment registry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.payments import PaymentProvider, ProviderResult


class WalletProvider(PaymentProvider):
    """Pay with the customer's stored balance (paid first, then bonus)."""

    code = "wallet"
    label = _("Wallet balance")
    at_counter = True  # with the member's payment code from their app (members.paycodes)

    def collect(self, *, payment, reference="", data=None):
        from members.paycodes import pay_code_required, pay_code_use
        from wallet.services import InsufficientFunds, wallet_pay

        customer = payment.order.customer
        if customer is None:
            return ProviderResult(succeeded=False, message=str(_("Wallet payments need a customer on the order.")))
        at_till = pay_code_required(payment)
        if at_till:
            pay_code_use(code=reference, order=payment.order)
        try:
            record = wallet_pay(
                customer=customer, amount=payment.amount, key=f"order-payment:{payment.pk}", order=payment.order
            )
        except InsufficientFunds as error:
            if at_till:  # the clerk is told, and the member's code stays unused
                raise ValidationError({"method": error.messages}) from None
            return ProviderResult(succeeded=False, message=" ".join(error.messages))
        return ProviderResult(succeeded=True, reference=f"wallet-{record.pk}")

    def refund(self, *, refund):
        from wallet.models import LedgerTransaction
        from wallet.services import wallet_refund

        payment = LedgerTransaction.objects.filter(idempotency_key=f"order-payment:{refund.payment_id}").first()
        if payment is None:
            raise ValidationError(_("No wallet payment to refund."))
        record = wallet_refund(payment=payment, amount=refund.amount, key=f"order-refund:{refund.pk}")
        return ProviderResult(succeeded=True, reference=f"wallet-{record.pk}")


class CardProvider(PaymentProvider):
    """A bank card on the store's terminal: the clerk records the terminal's reference."""

    code = "card"
    label = _("Bank card (terminal)")
    collected_in_person = True

    def collect(self, *, payment, reference="", data=None):
        if not reference.strip():
            return ProviderResult(succeeded=False, message=str(_("Enter the terminal's reference number.")))
        return ProviderResult(succeeded=True, reference=reference.strip())

    def refund(self, *, refund):
        return ProviderResult(succeeded=True, reference=f"card-refund-{refund.pk}")
