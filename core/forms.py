"""Form pieces shared by the console apps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Region

WINDOW_WIDGET = {"type": "datetime-local"}
WINDOW_FORMAT = "%Y-%m-%dT%H:%M"


def window_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs=WINDOW_WIDGET, format=WINDOW_FORMAT)


class RegionScopedModelForm(forms.ModelForm):
    """A model form for region-level settings (coupons, promotions, tiers, plans, rules): the region
    offered are those the user may change; `window` names a (start, end) pair that must be ordered."""

    window: tuple[str, str] | None = None
    window_message = _("It must end after it starts.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "change")

    def clean(self):
        data = super().clean()
        if self.window:
            start, end = (data.get(name) for name in self.window)
            if start and end and end <= start:
                self.add_error(self.window[1], self.window_message)
        return data
