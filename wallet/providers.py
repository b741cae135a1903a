"""Payment providers the wallet app registers in the orders payment registry."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.payments import PaymentProvider, ProviderResult


class WalletProvider(PaymentProvider):
    """Pay with the customer's stored balance (paid first, then bonus)."""

    code = "wallet"
    label = _("Wallet balance")

    def collect(self, *, payment, reference="", data=None):
        from wallet.services import InsufficientFunds, wallet_pay

        customer = payment.order.customer
        if customer is None:
            return ProviderResult(succeeded=False, message=str(_("Wallet payments need a customer on the order.")))
        try:
            record = wallet_pay(
                customer=customer, amount=payment.amount, key=f"order-payment:{payment.pk}", order=payment.order
            )
        except InsufficientFunds as error:
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
