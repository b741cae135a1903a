"""Forms of the staff pages: adding and editing clerks, the counter, shifts, approvals, rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import date_input, preselect_only_choice
from core.models import Notification, Region, Site
from staff.models import AnomalyRule, RewardPenalty, StaffProfile, TrainingRecord, User
from staff.roles import CLERK, STORE_MANAGER

MONEY_FIELD = {"max_digits": 12, "decimal_places": 2}


def _money(label, *, required=True, minimum=Decimal("0.00"), **kwargs):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=minimum,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **MONEY_FIELD,
        **kwargs,
    )


class StoreChoiceMixin:
    def limit_sites(self, user, field="sites"):
        sites = Site.objects.restrict(user, "view").filter(is_active=True).order_by("name")
        profile = getattr(user, "profile", None) if hasattr(user, "pk") else None
        if field == "site" and profile is not None and profile.sites.exists():
            sites = sites.filter(pk__in=profile.sites.values("pk"))  # the stores they work in
        self.fields[field].queryset = sites
        if field == "site":
            preselect_only_choice(self, field)


def _collect_kind_choices():
    return [
        ("cash", _("Cash")),
        ("card", _("Card")),
        ("qr", _("QR code")),
        ("wallet", _("Member's wallet")),
        ("points", _("Points")),
    ]


class ProfileSwitchesForm(StoreChoiceMixin, forms.ModelForm):
    collect_methods = forms.MultipleChoiceField(
        label=_("Methods they may collect"),
        choices=_collect_kind_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = StaffProfile
        fields = [
            "sites",
            "can_collect",
            "collect_methods",
            "collect_limit",
            "collect_daily_limit",
            "can_sell_services",
            "can_refund",
            "refund_limit",
            "refund_daily_limit",
            "reports",
            "can_manage_members",
            "can_change_settings",
            "photo",
        ]
        widgets = {"sites": forms.CheckboxSelectMultiple}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_sites(user)
        if self.instance.pk:
            # Stores outside the editor's scope stay as they are; only theirs are shown.
            self.fields["sites"].initial = self.instance.sites.all()


class ClerkCreateForm(ProfileSwitchesForm):
    name = forms.CharField(label=_("Name"), max_length=150)
    gender = forms.ChoiceField(label=_("Gender"), choices=User.Gender.choices, required=False)
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=20,
        help_text=_("The clerk logs in with it."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(label=_("Email"), required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=[(CLERK, _("Clerk")), (STORE_MANAGER, _("Store manager"))], initial=CLERK
    )
    send_by = forms.ChoiceField(
        label=_("Send the initial password by"),
        choices=[(Notification.Channel.SMS, _("SMS")), (Notification.Channel.EMAIL, _("Email"))],
        initial=Notification.Channel.SMS,
    )

    field_order = ["name", "gender", "phone", "email", "role", "sites", "send_by"]

    def clean_phone(self):
        # Checked here too, so a mistake elsewhere on the form does not hide a wrong number.
        from staff.services import phone_normalise

        try:
            return phone_normalise(self.cleaned_data["phone"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["phone"]) from None


class SaleForm(StoreChoiceMixin, forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"))
    description = forms.CharField(label=_("Item"), max_length=200, initial=_("Walk-in sale"))
    amount = _money(_("Price"), minimum=Decimal("0.01"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)
    customer_phone = forms.CharField(
        label=_("Member's phone"),
        max_length=32,
        required=False,
        help_text=_("For points and the member's discount."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_sites(user, "site")

    def clean_customer_phone(self, field="customer_phone"):
        from members.models import Customer
        from members.services import phone_normalise

        phone = self.cleaned_data.get(field, "").strip()
        if not phone:
            return None
        try:
            normalised = phone_normalise(phone)
        except forms.ValidationError:
            raise forms.ValidationError(_("Enter a valid phone number.")) from None
        customer = Customer.objects.filter(phone__in=[normalised, phone], is_active=True).first()
        if customer is None:
            raise forms.ValidationError(_("No member with this phone number."))
        return customer


class TillForm(SaleForm):
    """The till's cart: catalog products (repeated `product` and `quantity` fields the page's
    script fills from scans and searches), the store and the member."""

    description = None
    amount = None
    quantity = None


class VoidForm(forms.Form):
    reason = forms.CharField(label=_("Why is it voided?"), max_length=255)


class ReturnForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=999, initial=1)
    destination = forms.ChoiceField(
        label=_("The items go"),
        choices=[("shelf", _("Back on the shelf")), ("damaged", _("To damaged goods"))],
    )
    reason = forms.CharField(label=_("Reason"), max_length=255)


class EnrolForm(StoreChoiceMixin, forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"))
    phone = forms.CharField(label=_("Mobile number"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_sites(user, "site")


class PointsAdjustForm(StoreChoiceMixin, forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"))
    phone = forms.CharField(
        label=_("Member's phone"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    points = forms.IntegerField(label=_("Points (negative to take away)"))
    reason = forms.CharField(label=_("Reason"), max_length=255)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_sites(user, "site")

    def clean_phone(self):
        return SaleForm.clean_customer_phone(self, field="phone")


class StoreHoursForm(StoreChoiceMixin, forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"))
    opening_time = forms.TimeField(
        label=_("Opens at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    closing_time = forms.TimeField(
        label=_("Closes at"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_sites(user, "site")


class CollectForm(forms.Form):
    method = forms.ChoiceField(label=_("Method"))
    amount = _money(_("Amount"), minimum=Decimal("0.01"))
    tendered = _money(_("Cash tendered"), required=False)
    reference = forms.CharField(
        label=_("Reference or payment code"),
        max_length=100,
        required=False,
        help_text=_("Card: the terminal's reference. Wallet or points: scan the payment code in the member's app."),
    )
    offline_at = forms.DateTimeField(
        label=_("Collected while offline at"),
        required=False,
        help_text=_("Only for a collection made while the system was unreachable."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from staff.counter import counter_methods

        # Only the methods the clerk may collect get a button (the service refuses the others).
        self.fields["method"].choices = counter_methods(user)


class RefundRequestForm(forms.Form):
    amount = _money(_("Refund amount"), minimum=Decimal("0.01"))
    reason = forms.CharField(label=_("Reason"), max_length=255)


class ShiftOpenForm(StoreChoiceMixin, forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"))
    opening_float = _money(_("Cash float"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.limit_sites(user, "site")


class ShiftCloseForm(forms.Form):
    counted_amount = _money(_("Counted cash"))
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("reject", _("Reject"))], widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=255, required=False)


class AnomalyRuleForm(forms.Form):
    """Setting the rule of a kind for a region replaces the one it had."""

    region = forms.ModelChoiceField(queryset=Region.objects.none(), label=_("Region"))
    kind = forms.ChoiceField(label=_("Rule"), choices=AnomalyRule.Kind.choices)
    threshold = _money(_("Threshold"), required=False, initial=Decimal("0.00"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "change")

    def clean_threshold(self):
        return self.cleaned_data.get("threshold") or Decimal("0.00")


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=date_input())
    end = forms.DateField(label=_("To"), required=False, widget=date_input())
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user, "view").order_by("name")
        # Unfiltered, the page shows this month to today: the date boxes say so instead of empty.
        today = timezone.localdate()
        self.fields["start"].initial = today.replace(day=1)
        self.fields["end"].initial = today

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError(_("The period ends before it starts."))
        return data


class GrantForm(forms.Form):
    """A region or a store to give, and whether to see or to manage it. Validation accepts any
    region or store so that one outside the giver's regions gets the service's clear refusal (and
    its audit entry); the choices shown are the giver's own."""

    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all(), required=False)
    site = forms.ModelChoiceField(label=_("Store or site"), queryset=Site.objects.all(), required=False)
    action = forms.ChoiceField(
        label=pgettext_lazy("grant", "Level"),
        choices=[("view", _("See")), ("change", _("Manage"))],
        initial="view",
        help_text=_("Store staff get the level of their role: clerks see, store managers manage."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = Region.objects.restrict(user, "change").order_by("path")
        sites = Site.objects.restrict(user, "change").filter(is_active=True).order_by("name")
        self.fields["region"].widget.choices = [("", "---------"), *((r.pk, str(r)) for r in regions)]
        self.fields["site"].widget.choices = [("", "---------"), *((s.pk, str(s)) for s in sites)]

    def clean(self):
        data = super().clean()
        if bool(data.get("region")) == bool(data.get("site")):
            raise forms.ValidationError(_("Choose a region or a store, not both."))
        return data


class TrainingForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=date_input())
    content = forms.CharField(label=_("Content"), max_length=300)
    result = forms.ChoiceField(label=_("Result"), choices=TrainingRecord.Result.choices)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


SCORES = [(n, str(n)) for n in range(1, 6)]


class EvaluationForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=date_input())
    period_end = forms.DateField(label=_("To"), widget=date_input())
    score = forms.TypedChoiceField(label=_("Score (1 to 5)"), choices=SCORES, coerce=int)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            self.add_error("period_end", _("The period cannot end before it starts."))
        return data


class RewardPenaltyForm(forms.Form):
    kind = forms.ChoiceField(label=_("Reward or penalty"), choices=RewardPenalty.Kind.choices)
    date = forms.DateField(label=_("Date"), widget=date_input())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    amount = _money(_("Amount"), required=False, help_text=_("Money, if any; leave empty otherwise."))


class PeerRatingForm(forms.Form):
    evaluation = forms.IntegerField(widget=forms.HiddenInput)
    score = forms.TypedChoiceField(label=_("Score (1 to 5)"), choices=SCORES, coerce=int)
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CustomerRatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How were you served?"), choices=SCORES, coerce=int, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Anything to add? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
