"""Writes for core: regions and sites, scope grants, the audit log and notifications."""

from __future__ import annotations

import datetime
import logging
import math
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone, translation
from guardian.shortcuts import assign_perm, remove_perm

from core.models import AuditEntry, Notification, RateCounter, Region, Site
from core.scoping import forget_grants

logger = logging.getLogger(__name__)


# --- Audit -----------------------------------------------------------------------------------
def audit_record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    changes: dict | None = None,
    region: Region | None = None,
    label: str = "",
) -> AuditEntry:
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        actor_label=label or (user.get_username() if user else str(actor or "system")),
        action=action,
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=changes or {},
        region=region,
    )


def model_changes(instance: models.Model, fields: Iterable[str], before: dict[str, Any]) -> dict:
    after = {f: getattr(instance, f) for f in fields}
    return {f: [str(before.get(f)), str(after[f])] for f in fields if before.get(f) != after[f]}


# --- Regions and sites -----------------------------------------------------------------------
@transaction.atomic
def site_create(*, actor, region: Region, **fields) -> Site:
    site = Site(region=region, **fields)
    site.full_clean()
    site.save()
    audit_record(actor=actor, action="site.create", obj=site, region=region)
    return site


@transaction.atomic
def site_update(*, actor, site: Site, **fields) -> Site:
    before = {f: getattr(site, f) for f in fields}
    for name, value in fields.items():
        setattr(site, name, value)
    site.full_clean()
    site.save()
    audit_record(
        actor=actor, action="site.update", obj=site, region=site.region, changes=model_changes(site, fields, before)
    )
    return site


# --- Scope grants ----------------------------------------------------------------------------
def scope_grant(*, actor, user, target: Region | Site, action: str = "view") -> None:
    """Give `user` the right to see (view) or manage (change) a region subtree or a site."""
    codename = f"core.{action}_{target._meta.model_name}"
    assign_perm(codename, user, target)
    if action == "change":
        assign_perm(f"core.view_{target._meta.model_name}", user, target)
    forget_grants(user)
    audit_record(
        actor=actor,
        action="scope.grant",
        obj=target,
        changes={"user": user.get_username(), "action": action},
        region=target if isinstance(target, Region) else target.region,
    )
    _announce_grants_changed(user)


def scope_revoke(*, actor, user, target: Region | Site) -> None:
    for action in ("view", "change"):
        remove_perm(f"core.{action}_{target._meta.model_name}", user, target)
    forget_grants(user)
    audit_record(
        actor=actor,
        action="scope.revoke",
        obj=target,
        changes={"user": user.get_username()},
        region=target if isinstance(target, Region) else target.region,
    )
    _announce_grants_changed(user)


def _announce_grants_changed(user) -> None:
    """Open websockets joined their groups at the handshake; after the commit, tell every socket of
    the user to recompute them (staff.websocket.UserSocket), so a grant or a revocation reaches
    live pages at once, without a reconnect (ADR 15)."""
    from core.live import group_send_many
    from staff.websocket import user_group

    user_id = user.pk
    transaction.on_commit(lambda: group_send_many([user_group(user_id)], {"type": "grants.changed"}))


# --- Notifications ---------------------------------------------------------------------------
def _address_for(recipient, channel: str) -> str:
    if channel == Notification.Channel.EMAIL:
        return getattr(recipient, "email", "") or ""
    if channel == Notification.Channel.SMS:
        return str(getattr(recipient, "phone", "") or "")
    return ""


def _render_text(template: str, context: dict) -> str:
    """A notification is plain text (an SMS, an email, the console escapes it when it shows it):
    rendered without HTML escaping, so "Jing'an" stays "Jing'an"."""
    from django.template import Context
    from django.template.loader import get_template

    return get_template(f"notifications/{template}.txt").template.render(Context(context, autoescape=False))


def _render(template: str, context: dict, language: str, secrets: dict | None) -> tuple[str, str, dict]:
    """The stored (secrets masked) subject and body, and what the delivery task sends instead."""
    with translation.override(language):
        rendered = _render_text(
            template, dict(context, **{k: "•" * len(str(v)) for k, v in (secrets or {}).items()})
        ).strip()
        secret_rendered = _render_text(template, dict(context, **secrets)).strip() if secrets else ""
    subject, _, body = rendered.partition("\n")
    secret_subject, _, secret_body = secret_rendered.partition("\n")
    real = {"subject": secret_subject.strip()[:200], "body": secret_body.strip()} if secrets else {}
    # Providers that send only approved templates (core.sms.TemplateSMSProvider) get the values
    # the deployment's template takes, by name; secrets travel only to the delivery task.
    wanted = ((getattr(settings, "SMS_TEMPLATES", {}) or {}).get(template) or {}).get("params") or []
    if wanted:
        values = {**context, **(secrets or {})}
        real["params"] = {name: str(values[name]) for name in wanted if values.get(name) is not None}
    return subject.strip(), body.strip(), real


def _queue(notifications: list[Notification], real: dict) -> None:
    from core.tasks import notification_deliver

    for notification in notifications:
        if notification.status == Notification.Status.PENDING:
            transaction.on_commit(lambda pk=notification.pk: notification_deliver.delay(pk, **real), robust=True)


def notification_send(
    *,
    template: str,
    recipient: models.Model,
    context: dict | None = None,
    channels: Iterable[str] = (Notification.Channel.IN_APP,),
    language: str | None = None,
    region: Region | None = None,
    secrets: dict | None = None,
) -> list[Notification]:
    """Render `notifications/<template>.txt` (first line = subject) per channel and queue it.

    Delivery happens in a Celery task after the surrounding transaction commits, so a slow or
    failing provider never blocks or rolls back the business change that caused the message.
    Channels without an address for this recipient (no email, no phone) are skipped.
    `secrets` (e.g. a pickup code) are rendered into the message that is sent but masked in the
    stored copy: the database never holds them; the delivery task carries them to the provider.
    """
    language = language or getattr(recipient, "language", "") or settings.LANGUAGE_CODE
    context = dict(context or {}, recipient=recipient)
    subject, body, real = _render(template, context, language, secrets)
    created = []
    recipient_type = ContentType.objects.get_for_model(recipient)
    for channel in channels:
        address = _address_for(recipient, channel)
        if channel != Notification.Channel.IN_APP and not address:
            continue
        created.append(
            Notification.objects.create(
                template=template,
                channel=channel,
                language=language,
                recipient_type=recipient_type,
                recipient_id=recipient.pk,
                address=address,
                subject=subject[:200],
                body=body or subject,
                status=Notification.Status.SENT
                if channel == Notification.Channel.IN_APP
                else Notification.Status.PENDING,
                region=region,
            )
        )
    _queue(created, real)
    return created


def notification_send_to_address(
    *,
    template: str,
    channel: str,
    address: str,
    context: dict | None = None,
    language: str | None = None,
    region: Region | None = None,
    secrets: dict | None = None,
) -> Notification:
    """Like `notification_send`, to an email address or phone number that belongs to no row yet
    (a sign-in code for a number whose customer is created only once the code is verified)."""
    if channel not in (Notification.Channel.EMAIL, Notification.Channel.SMS) or not address:
        raise ValueError("A message to a bare address needs an email or SMS channel and the address.")
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    subject, body, real = _render(template, dict(context or {}, recipient=None), language, secrets)
    notification = Notification.objects.create(
        template=template,
        channel=channel,
        language=language,
        address=address,
        subject=subject[:200],
        body=body or subject,
        status=Notification.Status.PENDING,
        region=region,
    )
    _queue([notification], real)
    return notification


def notification_deliver_now(
    *, notification: Notification, subject: str = "", body: str = "", params: dict | None = None
) -> None:
    """Send one queued email or SMS and record the outcome; raises so the task can retry.
    `subject` / `body` replace the stored (masked) text when the message carries secrets."""
    from django.core.mail import send_mail

    from core.sms import get_sms_provider

    if notification.status == Notification.Status.SENT:
        return  # a retried task after a successful send changes nothing
    Notification.objects.filter(pk=notification.pk).update(attempts=models.F("attempts") + 1)
    try:
        if notification.channel == Notification.Channel.EMAIL:
            send_mail(subject or notification.subject, body or notification.body, None, [notification.address])
        elif notification.channel == Notification.Channel.SMS:
            get_sms_provider().send(
                phone=notification.address,
                text=body or notification.body,
                template=notification.template,
                params=params,
            )
    except Exception as exc:
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.FAILED, last_error=str(exc)[:2000]
        )
        raise
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now(), last_error=""
    )


def notification_mark_read(*, notification: Notification) -> None:
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())


def notifications_mark_all_read(*, recipient) -> int:
    """Mark every unread in-app notification of `recipient` as read; how many were unread."""
    from core.selectors import notification_list_for

    return notification_list_for(recipient=recipient).filter(read_at__isnull=True).update(read_at=timezone.now())


# --- Rate limits ------------------------------------------------------------------------------
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, datetime.timedelta]:
    """`"5/hour"`, `"1/min"`, `"300/h"`, `"10/30s"` → (5, 1 hour) ... The count 0 refuses everything."""
    count, _, period = str(rate).strip().partition("/")
    digits = "".join(ch for ch in period if ch.isdigit())
    unit = period[len(digits) :].strip()[:1].lower()
    if not count.strip().isdigit() or unit not in _PERIODS:
        raise ValueError(f"Not a rate: {rate!r} (write it like '5/hour').")
    return int(count), datetime.timedelta(seconds=int(digits or 1) * _PERIODS[unit])


class RateLimited(Exception):
    """A limit of `rate_take` is reached. `name` says which; `retry_after` is in whole seconds."""

    def __init__(self, name: str, retry_after: int):
        super().__init__(name)
        self.name = name
        self.retry_after = max(1, retry_after)


def rate_take(*, limits: Iterable[tuple[str, str, str]]) -> None:
    """Count one occurrence against every `(name, key, rate)`, or against none of them.

    Each counter is taken by one conditional UPDATE (its row is locked until the transaction ends),
    all inside one transaction: when a later limit refuses, the earlier ones are given back, and
    parallel callers can never pass a limit between them. A window starts with the first occurrence
    and lasts the rate's period, so "1/minute" means at least a minute between two.
    Callers pass limits in the same order every time (the most specific first), so two callers
    never wait on each other's rows in opposite orders.
    """
    now = timezone.now()
    with transaction.atomic():
        for name, key, rate in limits:
            limit, period = rate_parse(rate)
            if limit == 0:
                raise RateLimited(name, int(period.total_seconds()))
            RateCounter.objects.bulk_create([RateCounter(key=key, window_end=now, count=0)], ignore_conflicts=True)
            expired = Q(window_end__lte=now)
            taken = RateCounter.objects.filter(Q(key=key) & (expired | Q(count__lt=limit))).update(
                count=Case(When(expired, then=Value(1)), default=F("count") + 1),
                window_end=Case(When(expired, then=Value(now + period)), default=F("window_end")),
            )
            if taken == 0:
                window_end = RateCounter.objects.filter(key=key).values_list("window_end", flat=True).first() or now
                raise RateLimited(name, math.ceil((window_end - now).total_seconds()))


def rate_counters_purge(*, older_than: datetime.timedelta = datetime.timedelta(days=1)) -> int:
    """Forget counters whose window ended long ago (one row per number and address ever seen)."""
    return RateCounter.objects.filter(window_end__lt=timezone.now() - older_than).delete()[0]
