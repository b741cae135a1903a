"""Outbound webhooks to API partners: a delivery row per event, signed JSON POSTed by a Celery task,
retried with exponential backoff, delivered once. What it does not own: deciding which partner an
order belongs to (orders.Order.partner) or the partner's keys (orders/partners.py).

Signature (docs/adr/0012): every POST carries `X-Signature: t=<unix seconds>,v1=<hex>` where
`<hex>` is HMAC-SHA256 keyed with the partner's webhook secret over `f"{t}.{body}"`, body being
the exact bytes sent. A receiver recomputes it, compares in constant time and refuses a `t` older
than a few minutes (replays). `X-Webhook-Id` names the delivery; `payload["id"]` names the event
and stays the same when an operator redelivers it, so a receiver can drop repeats."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.events import OrderChanged
from orders.models import Order, PartnerClient, WebhookDelivery

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 8
# 30 s, 1, 2, 4, 8, 16, 32 minutes: about an hour of a receiver's outage is bridged.
FIRST_BACKOFF_SECONDS = 30
# A worker holds a delivery this long while it sends, longer than the request may take.
CLAIM_SECONDS = TIMEOUT_SECONDS + 20
SIGNATURE_HEADER = "X-Signature"
D = WebhookDelivery.Status


def backoff_seconds(attempts: int) -> int:
    """How long to wait after the `attempts`-th failed attempt."""
    return FIRST_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The X-Signature header value for `body` sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _payload(event: str, data: dict) -> dict:
    return {"id": f"evt_{uuid.uuid4().hex}", "type": event, "created": timezone.now().isoformat(), "data": data}


# --- Creating deliveries ---------------------------------------------------------------------
def _enqueue(delivery: WebhookDelivery) -> None:
    """Send after commit; if the broker is down the sweep (webhooks_sweep) sends it later."""
    delivery_id, attempts = delivery.pk, delivery.attempts

    def send():
        from orders.tasks import webhook_deliver

        try:
            webhook_deliver.delay(delivery_id, attempts)
        except Exception:
            logger.exception("Could not queue webhook delivery %s; the sweep will send it", delivery_id)

    transaction.on_commit(send, robust=True)


def _delivery_create(*, client: PartnerClient, event: str, payload: dict, order_id=None) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(
        client=client,
        order_id=order_id,
        event=event,
        payload=payload,
        url=client.webhook_url,
        next_attempt_at=timezone.now(),
    )
    _enqueue(delivery)
    return delivery


def webhook_ping(*, client: PartnerClient) -> WebhookDelivery:
    """A test event a partner (or an operator for it) sends to check its endpoint and signature."""
    if not client.webhook_url:
        raise ValidationError(_no_url_message())
    payload = _payload("ping", {"partner": client.name, "key_prefix": client.key_prefix})
    return _delivery_create(client=client, event="ping", payload=payload)


def _no_url_message() -> str:
    return _("No webhook URL is set for this API key; ask the operator to set one.")


def order_changed_payload(change: OrderChanged, *, external_reference: str = "") -> dict:
    return _payload(
        "order.created" if not change.from_status else "order.status_changed",
        {
            "order": {
                "id": change.order_id,
                "number": change.number,
                "kind": change.kind,
                "status": change.to_status,
                "external_reference": external_reference,
            },
            "from_status": change.from_status,
            "to_status": change.to_status,
            "action": change.action,
            "at": timezone.now().isoformat(),
        },
    )


def webhook_on_order_changed(change: OrderChanged) -> None:
    """Listener (after commit): an order a partner created changed; tell the partner."""
    if not change.partner_id or change.from_status == change.to_status:
        return
    client = PartnerClient.objects.filter(pk=change.partner_id, is_active=True).exclude(webhook_url="").first()
    if client is None:
        return
    reference = Order.objects.filter(pk=change.order_id).values_list("external_reference", flat=True).first() or ""
    payload = order_changed_payload(change, external_reference=reference)
    _delivery_create(client=client, event=payload["type"], payload=payload, order_id=change.order_id)


def webhook_redeliver(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send an event again (an operator's button): a new delivery with the same event id."""
    from core.services import audit_record

    client = delivery.client
    if not client.is_active:
        raise ValidationError(_revoked_message())
    if not client.webhook_url:
        raise ValidationError(_no_url_message())
    again = WebhookDelivery.objects.create(
        client=client,
        order_id=delivery.order_id,
        event=delivery.event,
        payload=delivery.payload,
        url=client.webhook_url,
        next_attempt_at=timezone.now(),
    )
    audit_record(
        actor=actor, action="webhook.redeliver", obj=again, changes={"from": delivery.pk}, region=client.region
    )
    _enqueue(again)
    return again


def _revoked_message() -> str:
    return _("This API partner's key is revoked; nothing is sent to it any more.")


# --- Sending ------------------------------------------------------------------------------------
def _session():
    import requests

    session = requests.Session()
    # The URL was checked against private addresses ourselves: no proxy or .netrc from the
    # environment decides where the request goes.
    session.trust_env = False
    return session


def webhook_attempt(*, delivery_id: int, seen_attempts: int) -> tuple[str, int]:
    """One attempt at a delivery: ("delivered" | "retry" | "failed" | "skipped", retry delay).

    The attempt is claimed first by a conditional UPDATE on the attempt count the caller saw, so
    two copies of the task (a Celery retry and the sweep, or a redelivered message) never send the
    same attempt twice, and nothing is sent once the delivery is delivered or given up."""
    import requests

    from orders.partners import webhook_url_check

    now = timezone.now()
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=D.PENDING, attempts=seen_attempts)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped", 0
    delivery = WebhookDelivery.objects.select_related("client").get(pk=delivery_id)
    client = delivery.client
    if not client.is_active:
        _finish(delivery, status=D.FAILED, code=None, error=_revoked_message())
        return "failed", 0
    body = body_bytes(delivery.payload)
    code, error = None, ""
    try:
        webhook_url_check(delivery.url)
        response = _session().post(
            delivery.url,
            data=body,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "back-office-webhooks/1",
                SIGNATURE_HEADER: signature(client.webhook_secret, body, int(time.time())),
                "X-Webhook-Id": str(delivery.pk),
                "X-Webhook-Event": delivery.event,
            },
        )
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    if not error:
        _finish(delivery, status=D.DELIVERED, code=code, error="")
        return "delivered", 0
    if delivery.attempts >= MAX_ATTEMPTS:
        _finish(delivery, status=D.FAILED, code=code, error=error)
        return "failed", 0
    delay = backoff_seconds(delivery.attempts)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=D.PENDING).update(
        last_status_code=code,
        last_error=error[:255],
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        claimed_until=None,
    )
    return "retry", delay


def _finish(delivery: WebhookDelivery, *, status: str, code, error: str) -> None:
    # Conditional: a delivery is marked delivered (or given up) once.
    WebhookDelivery.objects.filter(pk=delivery.pk, status=D.PENDING).update(
        status=status,
        last_status_code=code,
        last_error=error[:255],
        delivered_at=timezone.now() if status == D.DELIVERED else None,
        next_attempt_at=None,
        claimed_until=None,
    )


def webhooks_due(*, limit: int = 500) -> list[tuple[int, int]]:
    """Pending deliveries whose next attempt is due and which nobody is sending: (id, attempts)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(status=D.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", "attempts")[:limit]
    )
