from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        from accounting.report_commissions import commissions_by_group
        from orders.events import listener_register
        from reports.rollups import rollup_on_order_changed
        from reports.selectors import commission_source_register

        listener_register(rollup_on_order_changed)
        # Profit = net − cost − fees − the revenue partners' shares (accounting comes before us).
        commission_source_register(commissions_by_group)
