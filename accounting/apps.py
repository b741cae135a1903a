from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountingConfig(AppConfig):
    name = "accounting"
    verbose_name = _("Accounting")

    def ready(self):
        from accounting import journal_commissions  # noqa: F401  (registers its journal lines)
        from accounting.events import accrue_on_paid, reverse_on_refund
        from orders.events import listener_register, refund_hook_register
        from orders.models import OrderKind

        listener_register(accrue_on_paid)
        for kind in OrderKind.values:
            if kind != OrderKind.RECHARGE:
                refund_hook_register(kind, reverse_on_refund)
