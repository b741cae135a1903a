"""Writes of the reports app that people trigger: the daily summary subscription and its sending.
The roll-ups themselves are written by reports.rollups."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from reports import selectors
from reports.models import SummarySend, SummarySubscription

VIEW_SALES = "reports.view_salesday"


def summary_allowed(user) -> bool:
    """Who may receive the summary: those who may open the payment and sales figures of their
    grants (store managers, regional and platform administrators, finance), not suppliers."""
    return (
        user.is_active and user.has_perm(VIEW_SALES) and selectors.supplier_products(user) is None and bool(user.email)
    )


def summary_subscribe(*, user, language: str, hour: int) -> SummarySubscription:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"unknown language {language!r}")
    if not 0 <= hour <= 23:
        raise ValueError(f"hour {hour} is not an hour of the day")
    subscription, _created = SummarySubscription.objects.update_or_create(
        user=user, defaults={"active": True, "language": language, "hour": hour}
    )
    return subscription


def summary_unsubscribe(*, user) -> None:
    SummarySubscription.objects.filter(user=user).update(active=False)


def summary_render(*, user, day: datetime.date, language: str) -> tuple[str, str]:
    """The email's subject and body for `user`'s figures of `day`, in `language`."""
    with translation.override(language):
        summary = selectors.daily_summary(user, day)
        body = render_to_string("reports/summary_email.txt", {"summary": summary, "user": user})
        subject = render_to_string("reports/summary_subject.txt", {"summary": summary}).strip()
    return subject, body


def summary_send(*, subscription: SummarySubscription, day: datetime.date) -> bool:
    """Send one subscriber's summary of `day`, once: the (user, day) row is inserted with the
    message in one transaction, so a second delivery of the task (even at the same time, on
    PostgreSQL the insert waits for the first) finds the row and sends nothing."""
    user = subscription.user
    if not subscription.active or not summary_allowed(user):
        return False
    with transaction.atomic():
        _send, created = SummarySend.objects.get_or_create(
            user=user, day=day, defaults={"language": subscription.language}
        )
        if not created:
            return False
        subject, body = summary_render(user=user, day=day, language=subscription.language)
        send_mail(subject, body, None, [user.email])
    return True


def summary_due(*, now: datetime.datetime) -> list[SummarySubscription]:
    """Active subscriptions whose hour has come today (local time) and whose summary of yesterday
    is not sent yet: a beat missed at 8:00 is caught up at 9:00."""
    from reports.rollups import report_timezone

    local = now.astimezone(report_timezone())
    yesterday = local.date() - datetime.timedelta(days=1)
    sent = SummarySend.objects.filter(day=yesterday).values("user_id")
    return list(
        SummarySubscription.objects.filter(active=True, hour__lte=local.hour)
        .exclude(user_id__in=sent)
        .select_related("user")
    )
