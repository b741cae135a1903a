"""Carriers behind one interface (docs/adr/0034): each assigns waybill numbers, verifies and reads
the tracking pushes its service sends to our callback, and can be polled. `FULFILMENT_CARRIERS`
names the enabled ones (code -> dotted class path, with their own settings); the simulated carrier
is always there for the demo and tests."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from fulfilment.carriers.base import Carrier, PushRefused, TrackingUpdate

__all__ = ["Carrier", "PushRefused", "TrackingUpdate", "carrier_get", "carrier_choices"]

DEFAULT = {"simulated": "fulfilment.carriers.simulated.SimulatedCarrier"}


def _configured() -> dict[str, str]:
    return {**DEFAULT, **(getattr(settings, "FULFILMENT_CARRIERS", {}) or {})}


def carrier_get(code: str) -> Carrier:
    path = _configured().get(code)
    if not path:
        raise KeyError(code)
    return import_string(path)()


def carrier_choices() -> list[tuple[str, str]]:
    return [(code, str(carrier_get(code).name)) for code in _configured()]
