"""Reads on the order spine, scoped to the caller.

The inquiry's lookups are written so that each one is an index lookup on a large table
(docs/adr/0025): an order number is normalised and matched exactly (the unique index), a phone
is matched exactly or by prefix (an index with the pattern operator class on PostgreSQL), an
external reference exactly, and a day is a range of `created_at`. Nothing here scans text with
`contains` or wraps a column in a function."""

from __future__ import annotations

import datetime
import re

from django.db.models import Q
from django.utils import timezone

from orders.models import KIND_PREFIX, Order

# A phone prefix shorter than this matches too many customers to be a search.
PHONE_PREFIX_MIN = 3
# A phone prefix is resolved to customer ids first (so PostgreSQL reads the orders through their
# customer index); a prefix matching more customers than this asks for more digits instead.
PHONE_PREFIX_MAX_CUSTOMERS = 500

_NUMBER = re.compile(r"[%s]\d{6,}" % "".join(sorted(set(KIND_PREFIX.values()))))
_DIGITS = re.compile(r"\+?\d+")


def order_detail(*, user, pk):
    return (
        Order.objects.restrict(user, "view")
        .select_related("customer", "site", "device", "region", "created_by", "partner")
        .prefetch_related("lines__product", "payments", "refunds", "events__actor_user")
        .get(pk=pk)
    )


def order_number_normalise(value: str) -> str:
    """What an operator typed or scanned (" v2611220001 ") as it is stored ("V2611220001")."""
    return re.sub(r"\s+", "", value or "").upper()


def order_search_q(term: str) -> Q:
    """The inquiry's search box: an order number, a customer's phone (whole or its first digits)
    or an external reference. Matches nothing for an empty term."""
    term = (term or "").strip()
    if not term:
        return Q(pk__in=[])
    number = order_number_normalise(term)
    if _NUMBER.fullmatch(number):
        return Q(number=number)
    q = Q(external_reference=term)
    if _DIGITS.fullmatch(term):
        q |= _phone_q(term)
    return q


def _phone_q(phone: str) -> Q:
    from members.models import Customer

    if len(phone) < PHONE_PREFIX_MIN:
        return Q(customer__phone=phone)
    ids = list(
        Customer.objects.filter(phone__startswith=phone).values_list("pk", flat=True)[: PHONE_PREFIX_MAX_CUSTOMERS + 1]
    )
    if len(ids) > PHONE_PREFIX_MAX_CUSTOMERS:
        return Q(customer__phone=phone)  # too wide a prefix: only the exact phone
    return Q(customer_id__in=ids)


def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the current time zone, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def created_between_q(since: datetime.date | None, until: datetime.date | None) -> Q:
    """Orders created on `since` .. `until` (both days included, local time), as a range of the
    indexed column rather than a cast of every row to a date."""
    q = Q()
    if since:
        q &= Q(created_at__gte=day_start(since))
    if until:
        q &= Q(created_at__lt=day_start(until + datetime.timedelta(days=1)))
    return q
