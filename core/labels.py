"""What the interface calls the codes stored as plain strings: an order event's action, a device
event or command, a payment method. The app that owns the codes registers their names once
(`labels_register`); the `label` template filter and the console list pages (ScopedListView's
`labels`) show them in the reader's language. A code nobody named shows as it is."""

from __future__ import annotations

_LABELS: dict[str, dict[str, object]] = {}


def labels_register(domain: str, names: dict[str, object]) -> None:
    _LABELS.setdefault(domain, {}).update(names)


def label(domain: str, code) -> str:
    if code is None or code == "":
        return ""
    return str(_LABELS.get(domain, {}).get(str(code), code))


def labels_of(domain: str) -> dict[str, str]:
    """Every name of a domain, for a page's script that names codes arriving live."""
    return {code: str(name) for code, name in _LABELS.get(domain, {}).items()}
