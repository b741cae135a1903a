"""Anomaly rules per region, checked after each collection, refund and shift close.

A rule set on a region applies to its descendants unless one of them sets its own rule of that
kind. An alert carries its evidence and is raised once per rule and situation (its dedupe key),
then sent to the store's managers and the region's administrators.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from orders.models import ZERO, Payment, Refund
from staff.models import MESSAGE_KEY, AnomalyRule, Shift, StaffAlert, User, alert_text
from staff.roles import REGIONAL_ADMIN, STORE_MANAGER

K = AnomalyRule.Kind


def rules_for(region) -> dict[str, AnomalyRule]:
    """The active rule of each kind nearest to `region` on its path."""
    rules = AnomalyRule.objects.filter(region__path__in=region.ancestor_paths(), is_active=True).select_related(
        "region"
    )
    nearest: dict[str, AnomalyRule] = {}
    for rule in sorted(rules, key=lambda r: len(r.region.path)):
        nearest[rule.kind] = rule  # deeper regions override
    return nearest


def anomaly_check_later(kind: str, pk: int) -> None:
    """Queue the check after the surrounding transaction commits (never blocks the till)."""
    from staff.tasks import anomaly_check

    transaction.on_commit(lambda: anomaly_check.delay(kind, pk), robust=True)


def anomaly_check_now(kind: str, pk: int) -> list[StaffAlert]:
    if kind == "payment":
        payment = Payment.objects.select_related("order__region", "order__site").get(pk=pk)
        return _check_money(
            order=payment.order,
            amount=payment.amount,
            user=payment.collected_by,
            at=payment.collected_at,
            what="payment",
            pk=pk,
        )
    if kind == "refund":
        refund = Refund.objects.select_related("order__region", "order__site").get(pk=pk)
        alerts = _check_money(
            order=refund.order,
            amount=refund.amount,
            user=refund.requested_by,
            at=refund.created_at,
            what="refund",
            pk=pk,
        )
        return alerts + _check_refund_patterns(refund)
    if kind == "shift":
        return _check_shift(Shift.objects.select_related("site__region", "clerk").get(pk=pk))
    raise ValueError(kind)


def _check_money(*, order, amount: Decimal, user, at, what: str, pk: int) -> list[StaffAlert]:
    rules = rules_for(order.region)
    alerts = []
    rule = rules.get(K.LARGE_AMOUNT)
    if rule and amount > rule.threshold:
        alerts.append(
            _raise(
                rule,
                key=f"large:{what}:{pk}",
                site=order.site,
                clerk=user,
                text=gettext_noop("%(what)s of %(amount)s on %(number)s is over %(threshold)s."),
                params={"what": what, "amount": str(amount), "number": order.number, "threshold": str(rule.threshold)},
                evidence={"order": order.number, "amount": str(amount), what: pk, "threshold": str(rule.threshold)},
            )
        )
    rule = rules.get(K.OUTSIDE_HOURS)
    site = order.site
    if rule and site is not None and site.opening_time and site.closing_time and user is not None:
        local = timezone.localtime(at).time()
        opens, closes = site.opening_time, site.closing_time
        inside = opens <= local < closes if opens < closes else (local >= opens or local < closes)
        if not inside:
            alerts.append(
                _raise(
                    rule,
                    key=f"hours:{what}:{pk}",
                    site=site,
                    clerk=user,
                    text=gettext_noop(
                        "%(what)s on %(number)s at %(time)s, outside opening hours %(opens)s–%(closes)s."
                    ),
                    params={
                        "what": what,
                        "number": order.number,
                        "time": local.strftime("%H:%M"),
                        "opens": opens.strftime("%H:%M"),
                        "closes": closes.strftime("%H:%M"),
                    },
                    evidence={"order": order.number, what: pk, "at": timezone.localtime(at).isoformat()},
                )
            )
    return [a for a in alerts if a]


def _check_refund_patterns(refund: Refund) -> list[StaffAlert]:
    user, order = refund.requested_by, refund.order
    if user is None:
        return []
    rules = rules_for(order.region)
    alerts = []
    rule = rules.get(K.REFUNDS_PER_HOUR)
    if rule:
        since = refund.created_at - datetime.timedelta(hours=1)
        recent = list(
            Refund.objects.filter(
                requested_by=user,
                status=Refund.Status.SUCCEEDED,
                created_at__gt=since,
                created_at__lte=refund.created_at,
            ).values_list("pk", "order__number", "amount")
        )
        if len(recent) > rule.threshold:
            hour = timezone.localtime(refund.created_at).strftime("%Y%m%d%H")
            alerts.append(
                _raise(
                    rule,
                    key=f"refunds-hour:{user.pk}:{hour}",
                    site=order.site,
                    clerk=user,
                    text=gettext_noop("%(user)s made %(count)d refunds within an hour (limit %(limit)s)."),
                    params={
                        "user": user.get_username(),
                        "count": len(recent),
                        "limit": f"{rule.threshold.normalize():f}",
                    },
                    evidence={"refunds": [{"id": pk, "order": n, "amount": str(a)} for pk, n, a in recent]},
                )
            )
    rule = rules.get(K.REFUND_RATIO)
    if rule:
        day = timezone.localtime(refund.created_at).replace(hour=0, minute=0, second=0, microsecond=0)
        collected = (
            Payment.objects.filter(collected_by=user, status=Payment.Status.SUCCEEDED, collected_at__gte=day).aggregate(
                total=Sum("amount")
            )["total"]
            or ZERO
        )
        refunded = (
            Refund.objects.filter(requested_by=user, status=Refund.Status.SUCCEEDED, created_at__gte=day).aggregate(
                total=Sum("amount")
            )["total"]
            or ZERO
        )
        if collected > 0:
            ratio = (refunded / collected * 100).quantize(Decimal("0.1"))
            if ratio > rule.threshold:
                alerts.append(
                    _raise(
                        rule,
                        key=f"ratio:{user.pk}:{day:%Y%m%d}",
                        site=order.site,
                        clerk=user,
                        text=gettext_noop("%(user)s refunded %(ratio)s%% of today's collections (limit %(limit)s%%)."),
                        params={
                            "user": user.get_username(),
                            "ratio": str(ratio),
                            "limit": f"{rule.threshold.normalize():f}",
                        },
                        evidence={"collected": str(collected), "refunded": str(refunded), "ratio": str(ratio)},
                    )
                )
    return [a for a in alerts if a]


def _check_shift(shift: Shift) -> list[StaffAlert]:
    rule = rules_for(shift.site.region).get(K.SHIFT_VARIANCE)
    if not rule or shift.variance is None or abs(shift.variance) <= rule.threshold:
        return []
    alert = _raise(
        rule,
        key=f"variance:{shift.pk}",
        site=shift.site,
        clerk=shift.clerk,
        text=gettext_noop("Shift of %(user)s closed %(variance)s off the expected cash (limit %(limit)s)."),
        params={"user": shift.clerk.get_username(), "variance": str(shift.variance), "limit": str(rule.threshold)},
        evidence={
            "shift": shift.pk,
            "expected": str(shift.expected_amount),
            "counted": str(shift.counted_amount),
            "variance": str(shift.variance),
        },
    )
    return [alert] if alert else []


def _raise(rule: AnomalyRule, *, key: str, site, clerk, text: str, params: dict, evidence: dict) -> StaffAlert | None:
    """`text` is the untranslated sentence and `params` its values (plain strings and numbers): they
    are kept with the evidence so each reader sees the alert in their language (StaffAlert.text);
    `message` keeps it in the language of the process that raised it."""
    region = site.region if site is not None else rule.region
    evidence = {**evidence, MESSAGE_KEY: {"text": text, "params": params}}
    try:
        with transaction.atomic():
            alert = StaffAlert.objects.create(
                rule=rule,
                kind=rule.kind,
                region=region,
                site=site,
                clerk=clerk,
                message=alert_text(text, params)[:255],
                evidence=evidence,
                dedupe_key=key[:120],
            )
    except IntegrityError:
        return None  # already raised for this situation
    _notify(alert)
    return alert


def _notify(alert: StaffAlert) -> None:
    from core.scoping import user_can_reach
    from core.services import notification_send

    recipients = set()
    if alert.site_id:
        recipients |= set(User.objects.filter(is_active=True, groups__name=STORE_MANAGER, profile__sites=alert.site_id))
    for user in User.objects.filter(is_active=True, groups__name=REGIONAL_ADMIN).distinct():
        if user_can_reach(user, alert.region, "view"):
            recipients.add(user)
    recipients.discard(alert.clerk)
    for user in recipients:
        notification_send(template="staff_alert", recipient=user, context={"alert": alert}, region=alert.region)


def alert_acknowledge(*, actor, alert: StaffAlert) -> StaffAlert:
    StaffAlert.objects.filter(pk=alert.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=timezone.now(), acknowledged_by=actor
    )
    alert.refresh_from_db()
    return alert
