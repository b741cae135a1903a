"""Dashboard figures of the stores: refund approvals waiting, staff alerts not yet acknowledged,
open shifts, and a clerk's own shift. Counted over the viewer's restricted querysets; a clerk's
shift is their own row only."""

from __future__ import annotations

from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.dashboard import LIVE_ORDERS, card_register
from orders.models import ZERO, Payment, Refund
from staff.models import RefundApproval, Shift, StaffAlert
from staff.roles import CLERK, PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER

ROWS_SHOWN = 5


def pending_approvals(user):
    return RefundApproval.objects.restrict(user).filter(status=RefundApproval.Status.PENDING)


def open_alerts(user):
    return StaffAlert.objects.restrict(user).filter(acknowledged_at__isnull=True)


def open_shifts(user):
    return Shift.objects.restrict(user).filter(closed_at__isnull=True)


def shift_figures(shift: Shift) -> dict:
    """What a shift took so far: collections, refunds and the cash that should be in the drawer."""
    from staff.counter import shift_expected

    paid = Payment.objects.filter(shift=shift, status=Payment.Status.SUCCEEDED).aggregate(
        total=Sum("amount"), n=Count("pk")
    )
    refunded = Refund.objects.filter(shift=shift, status=Refund.Status.SUCCEEDED).aggregate(
        total=Sum("amount"), n=Count("pk")
    )
    return {
        "collected": paid["total"] or ZERO,
        "collections": paid["n"],
        "refunded": refunded["total"] or ZERO,
        "refunds": refunded["n"],
        "expected_cash": shift_expected(shift),
    }


def _when(at) -> str:
    return date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")


def card_approvals(user, now):
    approvals = pending_approvals(user).select_related("order")
    count = approvals.count()
    return {
        "title": _("Refunds waiting for approval"),
        "value": count,
        "url": reverse("staff:approval-list"),
        "tone": "warn" if count else "ok",
        "rows": [
            {
                "label": f"{approval.order.number}",
                "value": approval.amount,
                "money": True,
                "url": reverse("staff:approval-detail", args=[approval.pk]),
            }
            for approval in approvals.order_by("requested_at")[:ROWS_SHOWN]
        ],
        "figures": {"pending": count},
    }


def card_alerts(user, now):
    alerts = open_alerts(user).select_related("clerk")
    count = alerts.count()
    return {
        "title": _("Staff alerts to look at"),
        "value": count,
        "url": reverse("staff:alert-list"),
        "tone": "warn" if count else "ok",
        "rows": [
            {"label": alert.text, "value": None, "url": reverse("staff:alert-list")}
            for alert in alerts.order_by("-created_at")[:ROWS_SHOWN]
        ],
        "figures": {"open": count},
    }


def card_open_shifts(user, now):
    shifts = open_shifts(user).select_related("clerk", "site")
    count = shifts.count()
    return {
        "title": _("Open shifts"),
        "value": count,
        "url": reverse("staff:shift-list"),
        "rows": [
            {
                "label": _("%(clerk)s since %(at)s")
                % {"clerk": shift.clerk.get_full_name() or shift.clerk.username, "at": _when(shift.opened_at)},
                "value": None,
                "url": reverse("staff:shift-list"),
            }
            for shift in shifts.order_by("opened_at")[:ROWS_SHOWN]
        ],
        "empty": _("No shift is open.") if not count else "",
        "figures": {"open": count},
    }


def card_my_shift(user, now):
    from staff.counter import collected_today_by, shift_current

    shift = shift_current(user)
    if shift is None:
        return {
            "title": _("My shift"),
            "value": None,
            "url": reverse("staff:cashier"),
            "empty": _("No shift is open. Open one at the till to start collecting."),
            "rows": [{"label": _("Collected today"), "value": collected_today_by(user), "money": True}],
            "figures": {"open": 0, "collected_today": collected_today_by(user)},
        }
    figures = shift_figures(shift)
    waiting = RefundApproval.objects.filter(requested_by=user, status=RefundApproval.Status.PENDING).count()
    return {
        "title": _("My shift"),
        "value": figures["collected"],
        "money": True,
        "url": reverse("staff:cashier"),
        "hint": _("%(site)s, open since %(at)s") % {"site": shift.site.name, "at": _when(shift.opened_at)},
        "rows": [
            {"label": _("Collections"), "value": figures["collections"]},
            {"label": _("Refunded"), "value": figures["refunded"], "money": True},
            {"label": _("Cash float"), "value": shift.opening_float, "money": True},
            {"label": _("Cash expected in the drawer"), "value": figures["expected_cash"], "money": True},
            {"label": _("My refund requests waiting"), "value": waiting, "url": reverse("staff:approval-list")},
        ],
        "figures": {"open": 1, **figures},
    }


card_register(
    key="approvals",
    order=400,
    roles={PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER},
    permission="staff.view_refundapproval",
    build=card_approvals,
    live=LIVE_ORDERS,
)
card_register(
    key="staff-alerts",
    order=410,
    roles={PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER},
    permission="staff.view_staffalert",
    build=card_alerts,
)
card_register(
    key="open-shifts",
    order=120,
    roles={STORE_MANAGER},
    permission="staff.view_shift",
    build=card_open_shifts,
)
card_register(
    key="my-shift",
    order=50,
    roles={CLERK},
    permission="staff.use_cashier",
    build=card_my_shift,
    live=LIVE_ORDERS,
)
