"""Friendly messages for the database's CHECK and UNIQUE constraints, mapped once for every model.

A constraint's name says what it protects (`staff_refund_limit_not_negative`) but is no message
for a person. At start-up (CoreConfig.ready) every model's check constraints learn to report a
violation as a sentence about the field they guard, by that field (model and form validation
call `constraint.validate`). Code that meets the database's own refusal (an IntegrityError from a
race) turns it into the same sentence with `constraint_error`. A constraint the naming rules do
not cover gets its message in MESSAGES. Nothing here changes a constraint's definition, so
migrations do not see it.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError
from django.db.models import CheckConstraint, Q, UniqueConstraint
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

# Constraint name -> message, for those whose name does not say it (the rules below).
MESSAGES: dict[str, object] = {}

_KNOWN: dict[str, tuple[str, object]] = {}  # name -> (field or NON_FIELD_ERRORS, message)


def _formatted(template, **params):
    """`template % params` in the language of whoever reads it (not the one at start-up)."""
    return lazy(lambda: str(template) % {key: str(value) for key, value in params.items()}, str)()


def _fields_of(condition) -> list[str]:
    names = []
    for child in getattr(condition, "children", []):
        if isinstance(child, Q):
            names += _fields_of(child)
        elif isinstance(child, tuple):
            names.append(child[0].split("__")[0])
    return list(dict.fromkeys(names))


def _message(model, name: str, fields: list[str]):
    if name in MESSAGES:
        return MESSAGES[name]
    labels = [capfirst(model._meta.get_field(f).verbose_name) for f in fields if _has_field(model, f)]
    label = labels[0] if len(labels) == 1 else None
    if label and ("not_negative" in name or "non_negative" in name):
        return _formatted(_("%(field)s cannot be negative."), field=label)
    if label and "positive" in name:
        return _formatted(_("%(field)s must be more than zero."), field=label)
    if label:
        return _formatted(_("%(field)s: this value is not allowed."), field=label)
    return _("These values do not go together; check the form and try again.")


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:
        return False
    return True


def _report_by_field(constraint, field: str, message) -> None:
    original = constraint.validate

    def validate(model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        try:
            original(model, instance, exclude=exclude, using=using)
        except ValidationError:
            raise ValidationError({field: ValidationError(message, code="constraint")}) from None

    constraint.validate = validate


def constraints_install() -> None:
    """Give every model's check constraints a friendly message, reported by their field."""
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, CheckConstraint):
                fields = _fields_of(constraint.condition)
                field = fields[0] if len(fields) == 1 and _has_field(model, fields[0]) else NON_FIELD_ERRORS
                message = _message(model, constraint.name, fields)
                if constraint.name not in _KNOWN:
                    _report_by_field(constraint, field, message)
                _KNOWN[constraint.name] = (field, message)
            elif isinstance(constraint, UniqueConstraint):
                fields = list(constraint.fields)
                labels = [model._meta.get_field(f).verbose_name for f in fields if _has_field(model, f)]
                message = MESSAGES.get(constraint.name) or _formatted(
                    _("This %(fields)s is already in use."),
                    fields=lazy(
                        lambda labels=labels, model=model: ", ".join(map(str, labels or [model._meta.verbose_name])),
                        str,
                    )(),
                )
                field = fields[0] if len(fields) == 1 else NON_FIELD_ERRORS
                _KNOWN[constraint.name] = (field, message)


def constraint_error(error: IntegrityError) -> ValidationError:
    """The database refused a write: the same friendly message model validation gives, by its
    field when the constraint guards one; a general one for a constraint we do not know."""
    text = str(error)
    for name, (field, message) in _KNOWN.items():
        if name in text:
            return ValidationError({field: ValidationError(message, code="constraint")})
    return ValidationError(_("This could not be saved: it conflicts with data already stored."), code="constraint")
