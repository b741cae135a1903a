"""The simulated carrier of the demo and the tests: waybill numbers from our own sequence, and
pushes signed with HMAC-SHA256 over the raw body under FULFILMENT_SIMULATED_CARRIER_SECRET
(header `X-Signature: <hex>`). The body is JSON:

    {"waybill": "SIM...", "events": [{"at": ISO-8601, "status": "in_transit", "description": "...",
                                       "location": "..."}]}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from django.conf import settings
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from fulfilment.carriers.base import Carrier, PushRefused, TrackingUpdate

STATUSES = {"shipped", "in_transit", "delivered", "problem", "returning"}


def secret() -> bytes:
    return str(getattr(settings, "FULFILMENT_SIMULATED_CARRIER_SECRET", "") or settings.SECRET_KEY).encode()


def sign(body: bytes) -> str:
    return hmac.new(secret(), body, hashlib.sha256).hexdigest()


class SimulatedCarrier(Carrier):
    code = "simulated"
    name = _("Simulated carrier")

    def waybill_assign(self, *, shipment_order) -> str:
        return f"SIM{secrets.randbelow(10**12):012d}"

    def push_parse(self, request) -> list[TrackingUpdate]:
        given = request.headers.get("X-Signature", "")
        if not given or not hmac.compare_digest(given, sign(request.body)):
            raise PushRefused(str(_("The signature does not match.")), status=403)
        try:
            payload = json.loads(request.body)
            waybill = str(payload["waybill"])
            updates = []
            for event in payload["events"]:
                at = parse_datetime(str(event["at"]))
                status = str(event["status"])
                if at is None or status not in STATUSES:
                    raise ValueError
                updates.append(
                    TrackingUpdate(
                        waybill_number=waybill,
                        at=at,
                        status=status,
                        description=str(event.get("description") or status)[:255],
                        location=str(event.get("location") or "")[:120],
                    )
                )
        except (ValueError, KeyError, TypeError):
            raise PushRefused(str(_("The tracking push cannot be read."))) from None
        if not updates:
            raise PushRefused(str(_("The tracking push has no events.")))
        return updates
