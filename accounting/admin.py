"""Accounting admin: partners and rule versions are read here, changed through the console
(which validates the 100 % check and versions rules); the ledger, accruals and withdrawals are
read-only: money moves only through accounting services."""

from django.contrib import admin

from accounting.models import (
    Accrual,
    CommissionAccount,
    CommissionEntry,
    CommissionTransaction,
    Partner,
    RefundReversal,
    SharingRule,
    Withdrawal,
    WithdrawalApproval,
    WithdrawalEvent,
    WriteOff,
)
from core.admin import AppendOnlyAdmin


class EntryInline(admin.TabularInline):
    model = CommissionEntry
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ApprovalInline(ReadOnlyInline):
    model = WithdrawalApproval


class EventInline(ReadOnlyInline):
    model = WithdrawalEvent


class WriteOffInline(ReadOnlyInline):
    model = WriteOff


class ReversalInline(ReadOnlyInline):
    model = RefundReversal


@admin.register(Partner)
class PartnerAdmin(AppendOnlyAdmin):
    list_display = ["name", "kind", "region", "payout_method", "settlement", "is_active"]
    list_filter = ["kind", "settlement", "payout_method"]
    search_fields = ["name", "contact_name", "phone"]
    exclude = ["payout_account_encrypted"]


@admin.register(SharingRule)
class SharingRuleAdmin(AppendOnlyAdmin):
    list_display = ["code", "version", "partner", "basis", "method", "rate", "amount", "valid_from", "valid_until"]
    list_filter = ["basis", "method"]
    search_fields = ["code", "partner__name"]


@admin.register(CommissionAccount)
class CommissionAccountAdmin(AppendOnlyAdmin):
    list_display = ["__str__", "kind", "partner", "method", "balance", "updated_at"]
    list_filter = ["kind"]


@admin.register(CommissionTransaction)
class CommissionTransactionAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "kind", "partner", "amount", "actor_label"]
    list_filter = ["kind"]
    inlines = [EntryInline]


@admin.register(Accrual)
class AccrualAdmin(AppendOnlyAdmin):
    list_display = ["accrued_at", "order", "partner", "rule", "basis_amount", "amount", "reversed_amount", "status"]
    list_filter = ["status", "basis"]
    inlines = [ReversalInline, WriteOffInline]


@admin.register(Withdrawal)
class WithdrawalAdmin(AppendOnlyAdmin):
    list_display = ["number", "partner", "amount", "fee", "method", "status", "created_at", "paid_at"]
    list_filter = ["status", "method"]
    search_fields = ["number", "partner__name"]
    inlines = [ApprovalInline, EventInline, WriteOffInline]


from accounting import recon_admin  # noqa: E402,F401  (reconciliation registers its own)
