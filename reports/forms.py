"""The one form of every report page: the range, what to group by, and scoped filters."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Brand, Category, Product
from core.forms import ScopedChoicesMixin, date_input
from core.models import Region, Site
from devices.models import Device
from orders.models import Channel, OrderKind
from reports.selectors import DIMENSION_LABELS, DIMENSIONS, SALES_FIGURES, ReportError, report_query

DEFAULT_DAYS = 30
MEASURES = [
    ("net", _("Net sales")),
    ("gross", _("Gross sales")),
    ("quantity", _("Units")),
    ("orders", _("Orders")),
]
assert {code for code, _label in MEASURES} <= set(SALES_FIGURES)


def _dimension_choices(names=DIMENSIONS, blank=True):
    choices = [(name, DIMENSION_LABELS[name]) for name in names]
    return [("", "—"), *choices] if blank else choices


class ReportForm(ScopedChoicesMixin, forms.Form):
    """GET parameters of a report. A model choice outside the user's scope is no choice: the form
    says so and no figure is read."""

    date_from = forms.DateField(label=_("From"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=date_input())
    by = forms.ChoiceField(label=_("Group by"), required=False, choices=_dimension_choices(blank=False))
    then = forms.ChoiceField(label=_("and by"), required=False, choices=_dimension_choices())
    measure = forms.ChoiceField(label=_("Figure"), required=False, choices=MEASURES)
    region = forms.ModelChoiceField(label=_("Region"), required=False, queryset=Region.objects.all())
    site = forms.ModelChoiceField(label=_("Site"), required=False, queryset=Site.objects.all())
    machine = forms.ModelChoiceField(label=_("Machine"), required=False, queryset=Device.objects.all())
    product = forms.ModelChoiceField(label=_("Product"), required=False, queryset=Product.objects.all())
    category = forms.ModelChoiceField(label=_("Category"), required=False, queryset=Category.objects.all())
    brand = forms.ModelChoiceField(label=_("Brand"), required=False, queryset=Brand.objects.all())
    kind = forms.ChoiceField(label=_("Order kind"), required=False, choices=[("", "—"), *OrderKind.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", "—"), *Channel.choices])
    method = forms.CharField(label=_("Payment method"), required=False, max_length=20)

    def __init__(self, *args, fields: tuple[str, ...] | None = None, default_by: str = "day", **kwargs):
        super().__init__(*args, **kwargs)
        self.default_by = default_by
        if fields is not None:
            for name in list(self.fields):
                if name not in ("date_from", "date_to", *fields):
                    del self.fields[name]
        if "by" in self.fields:
            self.fields["by"].initial = default_by

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["date_to"] = data.get("date_to") or today
        data["date_from"] = data.get("date_from") or data["date_to"] - datetime.timedelta(days=DEFAULT_DAYS - 1)
        return data

    def report_query(self, *, max_days: int | None = None):
        """The checked query, or ReportError (also for a form error, with its message)."""
        if not self.is_valid():
            messages = [str(m) for errors in self.errors.values() for m in errors]
            raise ReportError(" ".join(messages))
        data = self.cleaned_data
        by = [data.get("by") or self.default_by, data.get("then") or ""]
        filters = {
            name: data.get(name)
            for name in ("region", "site", "machine", "product", "category", "brand", "kind", "channel", "method")
            if name in self.fields and data.get(name)
        }
        return report_query(date_from=data["date_from"], date_to=data["date_to"], by=by, max_days=max_days, **filters)

    def querystring(self) -> str:
        query = self.data.copy() if hasattr(self.data, "copy") else {}
        for name in ("export", "format"):
            query.pop(name, None)
        return query.urlencode() if hasattr(query, "urlencode") else ""


class SummarySubscriptionForm(forms.Form):
    """The daily summary email: the language it is written in and the hour it is sent."""

    language = forms.ChoiceField(label=_("Language"))
    hour = forms.TypedChoiceField(
        label=_("Hour to send"), coerce=int, choices=[(hour, f"{hour:02d}:00") for hour in range(24)]
    )

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES


class SummaryPreviewForm(forms.Form):
    day = forms.DateField(label=_("Day"), required=False, widget=date_input())

    def clean_day(self):
        day = self.cleaned_data.get("day") or timezone.localdate() - datetime.timedelta(days=1)
        if day > timezone.localdate():
            raise forms.ValidationError(_("Choose a day that has begun."))
        return day
