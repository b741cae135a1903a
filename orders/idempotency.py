"""Idempotency keys on partner create endpoints, with Stripe's semantics (docs/adr/0012).

`@idempotent` wraps a DRF view method. The `Idempotency-Key` header is required. The record of
(partner, key) is inserted and committed *before* the view runs, so the unique constraint stops a
concurrent twin at once ("still in progress", 409). The view then runs in a transaction that
also stores its answer. A repeat with the same key and the same request (method, path and body)
gets that first answer again, marked `Idempotent-Replayed: true`; the same key with a different
request is a 409 that says so. A request that was refused (any answer other than 2xx) changed
nothing and keeps nothing: its record is deleted, so the partner may fix the request and retry
with the same key. A record whose request died half-way (a crashed worker) is taken over after
IN_PROGRESS_SECONDS. Records are forgotten after RETENTION (a periodic task)."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from orders.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
# A request still "in progress" after this long died with its worker (its transaction rolled
# back); the next request with the same key runs it again.
IN_PROGRESS_SECONDS = 60


def request_fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _refuse(message: str, code: int = status.HTTP_409_CONFLICT, **headers) -> Response:
    return Response({"detail": message}, status=code, headers=headers or None)


def _key_of(request) -> tuple[str | None, Response | None]:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return None, _refuse(
            _("Send an Idempotency-Key header (a unique value per new request, e.g. a UUID) with every create."),
            status.HTTP_400_BAD_REQUEST,
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return None, _refuse(
            _("The Idempotency-Key must be printable text of at most %(n)d characters.") % {"n": MAX_KEY_LENGTH},
            status.HTTP_400_BAD_REQUEST,
        )
    return key, None


def _claim(client, key: str, request, fingerprint: str) -> tuple[IdempotencyRecord | None, Response | None]:
    """Insert the record (committed at once), or answer from the one already there."""
    now = timezone.now()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                client=client,
                key=key,
                method=request.method,
                path=request.path[:500],
                request_hash=fingerprint,
                started_at=now,
            )
        return record, None
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(client=client, key=key).first()
    if existing is None:  # refused and deleted in between: the caller may simply retry
        return None, _refuse(_("A request with this Idempotency-Key is still in progress; retry shortly."))
    if existing.created_at < now - RETENTION:
        # Expired but not swept yet: the key is free again.
        IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
        return _claim(client, key, request, fingerprint)
    if existing.request_hash != fingerprint:
        return None, _refuse(
            _(
                "This Idempotency-Key was already used for a different request (%(method)s %(path)s with "
                "another body). Use a new key for a new request."
            )
            % {"method": existing.method, "path": existing.path}
        )
    if existing.status_code is not None:
        return None, Response(
            existing.response_body, status=existing.status_code, headers={"Idempotent-Replayed": "true"}
        )
    stale = existing.started_at < now - timedelta(seconds=IN_PROGRESS_SECONDS)
    if stale and IdempotencyRecord.objects.filter(
        pk=existing.pk, status_code__isnull=True, started_at=existing.started_at
    ).update(started_at=now):
        existing.started_at = now
        return existing, None
    return None, _refuse(
        _("A request with this Idempotency-Key is still in progress; retry shortly."), **{"Retry-After": "1"}
    )


def idempotent(view_method):
    """For a DRF view method of a partner endpoint (request.auth is the PartnerClient) that creates
    something. The view's writes and the stored answer commit together."""

    @functools.wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key, refusal = _key_of(request)
        if refusal is not None:
            return refusal
        client = request.auth
        record, answer = _claim(client, key, request, request_fingerprint(request))
        if answer is not None:
            return answer
        try:
            with transaction.atomic():
                response = view_method(view, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    raise _Refused(response)
                body = json.loads(JSONRenderer().render(response.data) or b"null")
                IdempotencyRecord.objects.filter(pk=record.pk).update(
                    status_code=response.status_code, response_body=body
                )
        except _Refused as refused:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return refused.response
        except BaseException:
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            raise
        return response

    return wrapper


class _Refused(Exception):
    def __init__(self, response):
        super().__init__(response.status_code)
        self.response = response


def idempotency_records_expire() -> int:
    """Forget records older than RETENTION; the keys may be used again."""
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - RETENTION).delete()
    return deleted
