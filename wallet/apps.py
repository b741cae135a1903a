from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = _("Wallet")

    def ready(self):
        from orders.events import listener_register, refund_hook_register
        from orders.models import OrderKind
        from orders.payments import provider_register
        from wallet.providers import CardProvider, WalletProvider
        from wallet.recharges import recharge_on_paid, recharge_refund_hook

        provider_register(WalletProvider())
        provider_register(CardProvider())
        from wallet.online import ONLINE_PROVIDERS

        for provider in ONLINE_PROVIDERS:
            provider_register(provider)
        listener_register(recharge_on_paid)
        refund_hook_register(OrderKind.RECHARGE, recharge_refund_hook)
