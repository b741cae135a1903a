"""Admin pages of reconciliation: read-mostly; imports and resolutions go through the console."""

from django.contrib import admin

from accounting.recon_models import JournalAccount, ReconItem, Statement, StatementDay, StatementLine
from core.admin import ScopedModelAdmin


class ReadOnlyScopedAdmin(ScopedModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Statement)
class StatementAdmin(ReadOnlyScopedAdmin):
    list_display = ["file_name", "provider", "first_day", "last_day", "line_count", "region", "imported_at"]
    list_filter = ["provider"]


@admin.register(StatementDay)
class StatementDayAdmin(ReadOnlyScopedAdmin):
    list_display = ["provider", "day", "region", "statement"]


@admin.register(StatementLine)
class StatementLineAdmin(ReadOnlyScopedAdmin):
    list_display = ["statement", "line_no", "kind", "day", "merchant_reference", "amount", "fee"]
    list_filter = ["kind"]


@admin.register(ReconItem)
class ReconItemAdmin(ReadOnlyScopedAdmin):
    list_display = ["provider", "day", "kind", "status", "reference", "our_amount", "their_amount", "region"]
    list_filter = ["provider", "kind", "status"]


@admin.register(JournalAccount)
class JournalAccountAdmin(ScopedModelAdmin):
    list_display = ["kind", "code", "name"]
