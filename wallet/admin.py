"""Wallet admin: the ledger is read-only here; money moves only through wallet services."""

from django.contrib import admin

from core.admin import AppendOnlyAdmin, ScopedModelAdmin
from wallet.models import Account, BonusTier, Entry, Hold, LedgerTransaction, Recharge


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Account)
class AccountAdmin(AppendOnlyAdmin):
    list_display = ["__str__", "kind", "customer", "provider", "balance", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["customer__phone", "customer__name"]
    list_select_related = ["customer"]


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "kind", "customer", "amount", "reference", "actor_label"]
    list_filter = ["kind"]
    search_fields = ["reference", "idempotency_key", "customer__phone"]
    list_select_related = ["customer"]
    inlines = [EntryInline]


@admin.register(Hold)
class HoldAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "customer", "amount", "captured", "status", "reference"]
    list_filter = ["status"]
    list_select_related = ["customer"]


@admin.register(Recharge)
class RechargeAdmin(AppendOnlyAdmin):
    list_display = ["order", "customer", "amount", "bonus", "credited", "refunded"]
    list_select_related = ["order", "customer"]


@admin.register(BonusTier)
class BonusTierAdmin(ScopedModelAdmin):
    list_display = ["region", "min_amount", "bonus", "valid_from", "valid_until", "is_active"]
    list_filter = ["is_active"]
