"""Form pieces shared by the console apps."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Region

WINDOW_WIDGET = {"type": "datetime-local"}
WINDOW_FORMAT = "%Y-%m-%dT%H:%M"


def window_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs=WINDOW_WIDGET, format=WINDOW_FORMAT)


# A date picker's value must be ISO (yyyy-mm-dd) whatever the language: without a format the
# widget renders the language's first input format (2026/12/06 in Chinese), which the browser
# rejects, so the field showed empty and a filtered report lost its dates on every submit.
DATE_FORMAT = "%Y-%m-%d"


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT)


def restrict_choices(form: forms.BaseForm, user, action: str = "view") -> None:
    """Restrict every model choice field of `form` to the objects `user` may `action`, when the
    chosen model's manager can `restrict` (the console twin of core.api.restrict_references);
    a form may narrow a field further, never widen it."""
    for field in form.fields.values():
        if not isinstance(field, forms.ModelChoiceField) or field.queryset is None:
            continue
        manager = field.queryset.model._default_manager
        if hasattr(manager, "restrict"):
            field.queryset = field.queryset.filter(pk__in=manager.restrict(user, action).values("pk"))


def preselect_only_choice(form: forms.BaseForm, name: str) -> None:
    """A required choice with a single option (the clerk's one store) starts chosen, unless the
    form was given a value. Call after the field's queryset is final."""
    field = form.fields[name]
    if form.is_bound or form.initial.get(name) or not field.required:
        return
    only = list(field.queryset[:2])
    if len(only) == 1:
        form.initial[name] = only[0].pk


class ScopedChoicesMixin:
    """For console forms built with `user=`: every model choice offers and accepts only what the
    user may see (`choice_action`), so a posted id of another region's object is refused."""

    choice_action = "view"

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        restrict_choices(self, user, self.choice_action)


class RegionScopedModelForm(ScopedChoicesMixin, forms.ModelForm):
    """A model form for region-level settings (coupons, promotions, tiers, plans, rules): the region
    offered are those the user may change; `window` names a (start, end) pair that must be ordered."""

    window: tuple[str, str] | None = None
    window_message = _("It must end after it starts.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "change")

    def clean(self):
        data = super().clean()
        if self.window:
            start, end = (data.get(name) for name in self.window)
            if start and end and end <= start:
                self.add_error(self.window[1], self.window_message)
        return data
