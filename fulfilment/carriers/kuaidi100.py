"""Kuaidi100 (快递100), an aggregator of China's carriers (docs/adr/0034).

Subscription push: we subscribe a waybill at https://poll.kuaidi100.com/poll with our `callbackurl`
and a `salt`; Kuaidi100 then form-POSTs `param` (JSON: status, message, lastResult {nu, com,
state, ischeck, data [{context, time, ftime, areaName, status}]}) and `sign` = MD5(param + salt),
upper-case hex, to the callback, and expects {"result": true, "returnCode": "200", "message": ...}.
Real-time query (the poll): POST https://poll.kuaidi100.com/poll/query.do with customer, param
{com, num} and sign = MD5(param + key + customer), upper-case.

Settings: FULFILMENT_CARRIERS = {"kuaidi100": "fulfilment.carriers.kuaidi100.Kuaidi100Carrier"} and
KUAIDI100 = {"key": ..., "customer": ..., "salt": ..., "company": "shunfeng"}. Waybill numbers come
from the carrier's own electronic waybill (printed by the carrier's account): here the packer types
the number the carrier gave; `waybill_assign` refuses to invent one.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _

from fulfilment.carriers.base import Carrier, PushRefused, TrackingUpdate

QUERY_URL = "https://poll.kuaidi100.com/poll/query.do"
CHINA = ZoneInfo("Asia/Shanghai")

# Kuaidi100's `state` codes -> our shipment statuses (0 in transit, 1 collected, 2 problem,
# 3 signed for, 4 refused, 5 out for delivery, 6 returning, 7 forwarded, 8 customs, 14 refused).
STATES = {
    "0": "in_transit",
    "1": "shipped",
    "2": "problem",
    "3": "delivered",
    "4": "returning",
    "5": "in_transit",
    "6": "returning",
    "7": "in_transit",
    "8": "in_transit",
    "14": "returning",
}


def config() -> dict:
    return getattr(settings, "KUAIDI100", {}) or {}


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest().upper()


def push_sign(param: str, salt: str) -> str:
    return md5_upper(param + salt)


def _updates(result: dict) -> list[TrackingUpdate]:
    waybill = str(result["nu"])
    state = STATES.get(str(result.get("state", "0")), "in_transit")
    rows = list(result.get("data") or [])
    updates = []
    for index, row in enumerate(rows):  # newest first, as Kuaidi100 sends them
        at = datetime.datetime.strptime(str(row.get("ftime") or row["time"]), "%Y-%m-%d %H:%M:%S")
        updates.append(
            TrackingUpdate(
                waybill_number=waybill,
                at=at.replace(tzinfo=CHINA),
                # The parcel's current state belongs to the newest step; earlier ones were on the way.
                status=state if index == 0 else "in_transit",
                description=str(row.get("context", ""))[:255],
                location=str(row.get("areaName") or row.get("location") or "")[:120],
            )
        )
    return updates


class Kuaidi100Carrier(Carrier):
    code = "kuaidi100"
    name = _("Kuaidi100")

    def waybill_assign(self, *, shipment_order) -> str:
        raise NotImplementedError("Kuaidi100 tracks the carrier's own waybill numbers.")

    def push_parse(self, request) -> list[TrackingUpdate]:
        param = request.POST.get("param", "")
        given = request.POST.get("sign", "")
        salt = config().get("salt", "")
        if not param or not given or not salt or not hmac.compare_digest(given.upper(), push_sign(param, salt)):
            raise PushRefused(str(_("The signature does not match.")), status=403)
        try:
            updates = _updates(json.loads(param)["lastResult"])
        except (ValueError, KeyError, TypeError):
            raise PushRefused(str(_("The tracking push cannot be read."))) from None
        if not updates:
            raise PushRefused(str(_("The tracking push has no events.")))
        return updates

    def push_reply(self, *, ok: bool, message: str = ""):
        return JsonResponse(
            {"result": ok, "returnCode": "200" if ok else "500", "message": message or ("成功" if ok else "失败")},
            status=200 if ok else 400,
        )

    def poll(self, *, waybill_number: str) -> list[TrackingUpdate]:
        import requests

        conf = config()
        param = json.dumps({"com": conf.get("company", ""), "num": waybill_number}, separators=(",", ":"))
        sign = md5_upper(param + conf["key"] + conf["customer"])
        reply = requests.post(QUERY_URL, data={"customer": conf["customer"], "sign": sign, "param": param}, timeout=10)
        reply.raise_for_status()
        body = reply.json()
        if "nu" not in body:
            return []
        return _updates(body)
