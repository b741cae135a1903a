"""Reads for staff pages: clerk performance for a period."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Avg, Count, F, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from members.models import Feedback
from orders.models import ZERO, Order, OrderEvent, OrderKind, Payment, Refund
from staff import policies
from staff.appraisals import appraisal_summary, appraised_users
from staff.models import RefundApproval, Shift, User

COLUMNS = [
    ("clerk", gettext_lazy("Clerk")),
    ("collections", gettext_lazy("Collections")),
    ("collected_amount", pgettext_lazy("money", "Collected")),
    ("refunds", gettext_lazy("Refunds")),
    ("refunded_amount", gettext_lazy("Refunded")),
    ("voids", gettext_lazy("Voids")),
    ("avg_handling_seconds", gettext_lazy("Average handling (s)")),
    ("shifts", gettext_lazy("Shifts closed")),
    ("exact_shifts", gettext_lazy("Shifts without variance")),
    ("abs_variance", gettext_lazy("Total variance")),
    ("rating", gettext_lazy("Rating")),
    ("ratings", gettext_lazy("Ratings")),
    # Training, evaluations, rewards and penalties in the period (staff.appraisals, seed 004).
    ("trainings", gettext_lazy("Trainings")),
    ("trainings_passed", gettext_lazy("Trainings passed")),
    ("evaluation_score", gettext_lazy("Manager's score")),
    ("peer_rating", gettext_lazy("Colleagues' rating")),
    ("rewards", gettext_lazy("Rewards")),
    ("rewards_amount", gettext_lazy("Rewards amount")),
    ("penalties", gettext_lazy("Penalties")),
    ("penalties_amount", gettext_lazy("Penalties amount")),
]


def _scope_for(viewer, site):
    """(payments, refunds, ...) restricted to what the viewer may see; clerks with 'own' reports
    see only themselves, with 'store' reports their stores, without reports nothing."""
    only_user = None
    if policies.is_store_role(viewer) and not viewer.has_perm("staff.view_staffprofile"):
        if policies.allowed(viewer, policies.REPORTS_STORE):
            only_user = None
        elif policies.allowed(viewer, policies.REPORTS_OWN):
            only_user = viewer
        else:
            policies.deny(
                user=viewer,
                action=policies.REPORTS_OWN,
                message=str(policies.CAPABILITY_MESSAGES[policies.REPORTS_OWN]),
            )
    return only_user


def performance_rows(*, viewer, start, end, site=None) -> list[dict]:
    only_user = _scope_for(viewer, site)
    payments = Payment.objects.restrict(viewer).filter(
        status=Payment.Status.SUCCEEDED, collected_at__gte=start, collected_at__lt=end, collected_by__isnull=False
    )
    refunds = Refund.objects.restrict(viewer).filter(
        status=Refund.Status.SUCCEEDED, created_at__gte=start, created_at__lt=end
    )
    approvals = RefundApproval.objects.restrict(viewer).filter(requested_at__gte=start, requested_at__lt=end)
    voids = (
        OrderEvent.objects.restrict(viewer)
        .filter(to_status="cancelled", at__gte=start, at__lt=end, actor_user__isnull=False)
        .exclude(from_status="cancelled")
    )
    orders = Order.objects.restrict(viewer).filter(
        kind=OrderKind.COUNTER, paid_at__gte=start, paid_at__lt=end, created_by__isnull=False
    )
    shifts = Shift.objects.restrict(viewer).filter(closed_at__gte=start, closed_at__lt=end)
    feedback = Feedback.objects.restrict(viewer).filter(created_at__gte=start, created_at__lt=end, clerk__isnull=False)
    if site is not None:
        payments, refunds, voids, orders = (
            payments.filter(order__site=site),
            refunds.filter(order__site=site),
            voids.filter(order__site=site),
            orders.filter(site=site),
        )
        approvals, shifts, feedback = approvals.filter(site=site), shifts.filter(site=site), feedback.filter(site=site)
    if only_user is not None:
        payments = payments.filter(collected_by=only_user)
        refunds = refunds.filter(requested_by=only_user)
        approvals = approvals.filter(requested_by=only_user)
        voids = voids.filter(actor_user=only_user)
        orders = orders.filter(created_by=only_user)
        shifts = shifts.filter(clerk=only_user)
        feedback = feedback.filter(clerk=only_user)

    stats: dict[int, dict] = defaultdict(
        lambda: {
            "collections": 0,
            "collected_amount": ZERO,
            "refunds": 0,
            "refunded_amount": ZERO,
            "voids": 0,
            "avg_handling_seconds": None,
            "shifts": 0,
            "exact_shifts": 0,
            "abs_variance": ZERO,
            "rating": None,
            "ratings": 0,
        }
    )
    for row in payments.values("collected_by").annotate(n=Count("pk"), total=Sum("amount")):
        stats[row["collected_by"]].update(collections=row["n"], collected_amount=row["total"] or ZERO)
    # A clerk's refunds: those done on their own authority plus their approved requests.
    own = refunds.filter(approval__isnull=True, requested_by__isnull=False)
    for row in own.values("requested_by").annotate(n=Count("pk"), total=Sum("amount")):
        entry = stats[row["requested_by"]]
        entry["refunds"] += row["n"]
        entry["refunded_amount"] += row["total"] or ZERO
    for row in (
        approvals.filter(status=RefundApproval.Status.APPROVED)
        .values("requested_by")
        .annotate(n=Count("pk"), total=Sum("amount"))
    ):
        entry = stats[row["requested_by"]]
        entry["refunds"] += row["n"]
        entry["refunded_amount"] += row["total"] or ZERO
    for row in voids.values("actor_user").annotate(n=Count("pk")):
        stats[row["actor_user"]]["voids"] = row["n"]
    for row in orders.values("created_by").annotate(avg=Avg(F("paid_at") - F("created_at"))):
        if row["avg"] is not None:
            stats[row["created_by"]]["avg_handling_seconds"] = round(row["avg"].total_seconds(), 1)
    for shift in shifts.values("clerk", "variance"):
        entry = stats[shift["clerk"]]
        entry["shifts"] += 1
        variance = shift["variance"] or ZERO
        entry["exact_shifts"] += 1 if variance == 0 else 0
        entry["abs_variance"] += abs(variance)
    for row in feedback.values("clerk").annotate(avg=Avg("rating"), n=Count("pk")):
        stats[row["clerk"]].update(rating=round(float(row["avg"]), 2), ratings=row["n"])
    # Clerks with training, an evaluation, a reward or a penalty in the period have a row too.
    for user_id in appraised_users(viewer=viewer, start=start, end=end, site=site, only_user=only_user):
        stats[user_id]  # noqa: B018 - creates the clerk's empty row
    users = {u.pk: u for u in User.objects.filter(pk__in=stats.keys())}
    development = appraisal_summary(users.keys(), start=start.date(), end=(end - datetime.timedelta(days=1)).date())
    rows = []
    for pk, entry in stats.items():
        user = users.get(pk)
        if user is None:
            continue
        rows.append({"clerk": user.get_full_name() or user.get_username(), "user": user, **entry, **development[pk]})
    rows.sort(key=lambda r: (-r["collected_amount"], r["clerk"]))
    return rows


def performance_export(rows: list[dict], fmt: str) -> tuple[bytes, str]:
    from core.exports import table_file

    headers = [str(label) for _key, label in COLUMNS]
    values = [[_cell(row[key]) for key, _label in COLUMNS] for row in rows]
    return table_file(headers, values, fmt, sheet=_("Clerk performance"))


def _cell(value):
    if isinstance(value, Decimal):
        return float(value) if value is not None else None
    return "" if value is None else value
