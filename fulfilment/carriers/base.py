"""The carrier interface and what a tracking push or poll yields."""

from __future__ import annotations

import datetime
from dataclasses import dataclass


@dataclass(frozen=True)
class TrackingUpdate:
    """One step of a parcel's journey, in our words: `status` is a fulfilment.Shipment.Status."""

    waybill_number: str
    at: datetime.datetime
    status: str
    description: str
    location: str = ""


class PushRefused(Exception):
    """A tracking push we must not act on (bad signature, malformed body): nothing is written."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


class Carrier:
    code = ""
    name = ""

    def waybill_assign(self, *, shipment_order) -> str:
        """A waybill number for the order's parcel (an electronic waybill from the carrier)."""
        raise NotImplementedError

    def push_parse(self, request) -> list[TrackingUpdate]:
        """Verify a tracking push (an HttpRequest to our callback) and read its steps; raises
        PushRefused when it is not signed by the carrier or cannot be read."""
        raise NotImplementedError

    def push_reply(self, *, ok: bool, message: str = ""):
        """The HTTP answer the carrier expects to a push."""
        from django.http import JsonResponse

        return JsonResponse({"ok": ok, "message": message}, status=200 if ok else 400)

    def poll(self, *, waybill_number: str) -> list[TrackingUpdate]:
        """Ask the carrier for the parcel's steps so far (the beat job's fallback for missed pushes)."""
        return []
