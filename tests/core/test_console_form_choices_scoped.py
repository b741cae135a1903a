"""Console forms built on core.forms.ScopedChoicesMixin (every RegionScopedModelForm) offer in
each model choice field only objects the user may see: another region's object is not a choice."""

import pytest
from django import forms
from django.urls import get_resolver

from core.forms import ScopedChoicesMixin
from tests.factories import SCOPED_BUILDERS

_ALL_URLS = get_resolver().url_patterns  # import every app's views so their forms exist

pytestmark = pytest.mark.django_db


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _forms():
    return sorted({form for form in _subclasses(ScopedChoicesMixin) if form.__module__ != "core.forms"}, key=str)


def test_there_are_scoped_console_forms():
    assert _forms()


@pytest.mark.parametrize("form_class", _forms(), ids=lambda form: form.__name__)
def test_model_choices_exclude_other_regions(world, form_class):
    form = form_class(user=world.regional)
    checked = 0
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField):
            continue
        model = field.queryset.model
        if model not in SCOPED_BUILDERS:
            continue
        outsider = SCOPED_BUILDERS[model](world.west_store.region)
        assert not field.queryset.filter(pk=outsider.pk).exists(), (form_class.__name__, name)
        checked += 1
    assert checked, f"{form_class.__name__} has no scoped model choice to check"
