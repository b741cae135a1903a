"""The payment-provider registry. Providers register in their app's `AppConfig.ready()`; the
orders services call them through this module and never know which app a provider lives in."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _


@dataclass
class ProviderResult:
    succeeded: bool
    reference: str = ""
    pending: bool = False
    message: str = ""
    fee: Decimal = Decimal("0.00")
    data: dict = field(default_factory=dict)


class PaymentProvider:
    code: str = ""
    label = ""
    # Whether a clerk hands this over in person (cash, card terminal) rather than a customer paying online.
    collected_in_person = False
    # Whether collect() settles at once without the payment's row (its pk is None then): the
    # payment is written once, already settled, instead of written pending and updated.
    settles_unsaved = False

    def available(self) -> bool:
        """Whether the deployment can offer this method (online providers need credentials)."""
        return True

    def collect(self, *, payment, reference: str = "", data: dict | None = None) -> ProviderResult:
        raise NotImplementedError

    def refund(self, *, refund) -> ProviderResult:
        raise NotImplementedError


class CashProvider(PaymentProvider):
    code = "cash"
    label = _("Cash")
    collected_in_person = True
    settles_unsaved = True

    def collect(self, *, payment, reference="", data=None):
        return ProviderResult(succeeded=True, reference=reference)

    def refund(self, *, refund):
        return ProviderResult(succeeded=True, reference=f"cash-refund-{refund.pk}")


_REGISTRY: dict[str, PaymentProvider] = {}


class UnknownProvider(LookupError):
    pass


def provider_register(provider: PaymentProvider) -> None:
    if not provider.code:
        raise ValueError("A payment provider needs a code.")
    _REGISTRY[provider.code] = provider
    from core.labels import labels_register

    labels_register("payment.method", {provider.code: provider.label})


def provider_get(code: str) -> PaymentProvider:
    try:
        return _REGISTRY[code]
    except KeyError:
        raise UnknownProvider(code) from None


def provider_choices() -> list[tuple[str, str]]:
    """The methods this deployment offers."""
    return [(code, provider.label) for code, provider in sorted(_REGISTRY.items()) if provider.available()]
