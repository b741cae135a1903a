"""What a backup must bring back: per table, the row count and the sums of its money and
quantity columns (the wallet ledger's amounts, stock levels, order totals). `manage.py backup`
stores this manifest beside each backup; `manage.py restore` compares the restored database with
it, so a restore that lost rows or money says so instead of looking fine."""

from __future__ import annotations

import json
from decimal import Decimal

from django.apps import apps
from django.db import connections, models
from django.db.models import Count, Sum

QUANTITY_WORDS = ("quantity", "stock", "on_hand", "capacity", "points")


def _summed_fields(model) -> list[str]:
    names = []
    for field in model._meta.concrete_fields:
        if isinstance(field, models.DecimalField):
            names.append(field.attname)
        elif isinstance(field, models.IntegerField) and not isinstance(field, models.AutoField):
            if any(word in field.name for word in QUANTITY_WORDS):
                names.append(field.attname)
    return names


def fingerprint(using: str = "default") -> dict[str, dict[str, str]]:
    """{"app.Model": {"rows": "12", "amount": "-0.00", ...}} over every concrete table the project
    and its libraries keep (migrations and sessions excluded: they are rewritten by themselves)."""
    result: dict[str, dict[str, str]] = {}
    skipped = {"sessions", "contenttypes", "admin"}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.app_label in skipped:
            continue
        fields = _summed_fields(model)
        aggregates = {"rows": Count("pk")}
        aggregates.update({f"sum_{name}": Sum(name) for name in fields})
        row = model._base_manager.using(using).aggregate(**aggregates)
        entry = {"rows": str(row["rows"])}
        for name in fields:
            value = row[f"sum_{name}"]
            if isinstance(value, Decimal):
                value = value.normalize() if value else Decimal(0)
            entry[name] = str(value if value is not None else 0)
        result[meta.label] = entry
    connections[using].close()
    return result


def differences(expected: dict, actual: dict) -> list[str]:
    lines = []
    for label in sorted(set(expected) | set(actual)):
        want, got = expected.get(label), actual.get(label)
        if want is None or got is None:
            lines.append(f"{label}: {'missing after restore' if got is None else 'not in the backup manifest'}")
            continue
        for key in sorted(set(want) | set(got)):
            if want.get(key) != got.get(key):
                lines.append(f"{label}.{key}: backup {want.get(key)}, restored {got.get(key)}")
    return lines


def dumps(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True)
