"""Console forms of accounting: partners, sharing rules, withdrawals. Every model choice offers
only what the user may see (core.forms.ScopedChoicesMixin)."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounting.models import Partner, SharingRule
from accounting.rules import parse_tiers, tiers_text
from core.forms import ScopedChoicesMixin, window_input
from staff.roles import PARTNER


class PartnerForm(ScopedChoicesMixin, forms.ModelForm):
    payout_account = forms.CharField(
        label=_("payout account"),
        required=False,
        max_length=64,
        help_text=_("WeChat openid, Alipay login or bank account number; stored encrypted. Leave empty to keep."),
    )

    class Meta:
        model = Partner
        fields = [
            "name",
            "kind",
            "region",
            "contact_name",
            "phone",
            "email",
            "payout_method",
            "payout_name",
            "bank_name",
            "settlement",
            "users",
            "is_active",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["users"].queryset = get_user_model().objects.filter(groups__name=PARTNER, is_active=True)
        self.fields["users"].required = False

    def clean(self):
        data = super().clean()
        has_account = data.get("payout_account") or (self.instance.pk and self.instance.payout_account_encrypted)
        if data.get("settlement") not in (None, Partner.Settlement.MANUAL) and not has_account:
            self.add_error("payout_account", _("Automatic settlement needs a payout account."))
        return data

    def save(self, commit=True):
        partner = super().save(commit=False)
        if self.cleaned_data.get("payout_account"):
            partner.payout_account = self.cleaned_data["payout_account"].strip()
        if commit:
            partner.save()
            self.save_m2m()
        return partner


class RuleForm(ScopedChoicesMixin, forms.ModelForm):
    tiers_text = forms.CharField(
        label=_("volume tiers"),
        required=False,
        help_text=_("Monthly amount:percentage, e.g. 10000:12, 20000:15 (a higher percentage above each amount)."),
    )
    effective_from = forms.DateTimeField(
        label=_("change takes effect from"),
        required=False,
        widget=window_input(),
        help_text=_("Empty: now. Orders paid before keep the current version."),
    )

    class Meta:
        model = SharingRule
        fields = [
            "partner",
            "order_kind",
            "region",
            "site",
            "device",
            "category",
            "product",
            "basis",
            "method",
            "rate",
            "amount",
            "valid_from",
            "valid_until",
        ]
        widgets = {"valid_from": window_input(), "valid_until": window_input()}

    def __init__(self, *args, changing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rate"].required = self.fields["amount"].required = False
        self.fields["valid_from"].required = not changing
        if changing:
            del self.fields["valid_from"]
            self.fields["tiers_text"].initial = tiers_text(self.instance.tiers)
        else:
            del self.fields["effective_from"]

    def clean_tiers_text(self):
        return parse_tiers(self.cleaned_data.get("tiers_text", ""))

    def rule_fields(self) -> dict:
        data = {key: value for key, value in self.cleaned_data.items() if key in self.Meta.fields}
        data["tiers"] = self.cleaned_data.get("tiers_text") or []
        if data.get("rate") is None:
            data["rate"] = 0
        if data.get("amount") is None:
            data["amount"] = 0
        return data


class WithdrawalRequestForm(forms.Form):
    amount = forms.DecimalField(label=_("amount"), max_digits=12, decimal_places=2, min_value=0)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=255)


class ConfirmForm(forms.Form):
    reference = forms.CharField(label=_("bank reference"), max_length=100, required=False)
