"""Stable OpenAPI enum names.

drf-spectacular names an enum after its field ("status", "kind"); when several models share a field
name with different choices it falls back to hashed names ("Status1aeEnum") and warns. Every
distinct model choice set gets a readable name here instead ("OrderStatusEnum", "DeviceKindEnum"),
so the schema is stable for API clients and `check --deploy` stays clean as apps add models.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings


def _flat(choices) -> list[tuple]:
    flat = []
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            flat.extend(label)
        else:
            flat.append((value, label))
    return [(value, label) for value, label in flat if value not in ("", None)]


def model_enum_overrides() -> dict[str, list[tuple]]:
    overrides: dict[str, list[tuple]] = {}
    seen: set[tuple] = set()
    fields = [
        (f"{model.__name__}{field.name.title().replace('_', '')}Enum", field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.choices
    ]
    for name, field in sorted(fields, key=lambda item: item[0]):
        choices = _flat(field.choices)
        if not all(isinstance(value, (str, int)) for value, _label in choices):
            continue  # e.g. time-zone objects of third-party apps: left to drf-spectacular
        key = tuple(sorted((str(value), str(label)) for value, label in choices))
        if not choices or key in seen or name in overrides:
            continue
        seen.add(key)
        overrides[name] = choices
    return overrides


def install_enum_overrides() -> None:
    configured = settings.SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})
    for name, choices in model_enum_overrides().items():
        configured.setdefault(name, choices)
