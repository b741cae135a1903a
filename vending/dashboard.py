"""Dashboard figures of the machines' stock: slots running low, open restock tasks and today's
route for the service staff, and a supplier's own products (sales and restock needs).

Staff figures are counted over `Slot.objects.restrict(user)` / `RestockTask.objects.restrict(user)`;
a supplier's over their own products only (catalog.supplier_of), whatever region they sell in. A
supplier-role user tied to no supplier sees nothing rather than everyone's products.
"""

from __future__ import annotations

from django.db.models import Count, F, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core import charts
from core.dashboard import card_register, day_range, recent_days
from orders.models import ZERO, OrderKind, OrderLine
from staff.roles import PLATFORM_ADMIN, REGIONAL_ADMIN, SERVICE_STAFF, SUPPLIER
from vending import restock
from vending.models import RestockTask, Slot

ROWS_SHOWN = 6
SUPPLIER_TREND_DAYS = 14


# --- Selectors -----------------------------------------------------------------------------------
def supplier_ids_for(user) -> list[int]:
    from catalog.models import Supplier

    return list(Supplier.objects.filter(users=user, is_active=True).values_list("pk", flat=True))


def product_sales(lines, start, end) -> dict:
    """Units and amount of paid, non-refunded-order lines of orders placed in [start, end)."""
    row = (
        lines.filter(order__created_at__gte=start, order__created_at__lt=end, order__paid_amount__gt=0)
        .exclude(order__kind=OrderKind.RECHARGE)
        .aggregate(units=Sum("quantity"), amount=Sum("line_total"))
    )
    return {"units": row["units"] or 0, "amount": row["amount"] or ZERO}


def product_units_by_day(lines, days) -> list[int]:
    start, _end = day_range(days[0])
    _start, end = day_range(days[-1])
    per_day = dict(
        lines.filter(order__created_at__gte=start, order__created_at__lt=end, order__paid_amount__gt=0)
        .exclude(order__kind=OrderKind.RECHARGE)
        .annotate(day=TruncDate("order__created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(units=Sum("quantity"))
        .values_list("day", "units")
        .order_by()
    )
    return [per_day.get(day) or 0 for day in days]


def restock_needs(slots) -> dict:
    """Slots below par and the units that would fill them (par, else capacity)."""
    below = slots.filter(is_active=True, level__par_level__isnull=False, level__quantity__lt=F("level__par_level"))
    row = below.aggregate(slots=Count("pk"), units=Sum(F("level__par_level") - F("level__quantity")))
    low = slots.filter(is_active=True, level__low_since__isnull=False).count()
    return {"slots": row["slots"], "units": row["units"] or 0, "low": low}


# --- Cards ---------------------------------------------------------------------------------------
def card_low_stock(user, now):
    slots = restock.low_slots(user)
    count = slots.count()
    return {
        "title": _("Slots running low"),
        "value": count,
        "url": reverse("vending:low-stock"),
        "tone": "warn" if count else "ok",
        "rows": [
            {
                "label": f"{slot.device.name} {slot.code} · {slot.product.name}",
                "value": slot.level.quantity,
                "url": reverse("vending:planogram", args=[slot.device_id]),
            }
            for slot in slots[:ROWS_SHOWN]
        ],
        "figures": {"low": count},
    }


def _route_row(task, *, name_route: bool) -> str:
    """ "3. Vending machine 16 · Hongkou Venue": the stop in its route's order; the route's name
    only when the card lists more than one (the hint names it once otherwise)."""
    parts = [task.device.name, task.device.site.name]
    if name_route and task.route:
        parts.insert(0, task.route)
    label = " · ".join(parts)
    return f"{task.route_stop}. {label}" if task.route_stop else label


def card_todays_route(user, now):
    tasks = (
        RestockTask.objects.restrict(user)
        .filter(status=RestockTask.Status.OPEN)
        .select_related("device", "device__site")
        .order_by("route_date", "route_vehicle", "route_stop", "route", "device__name")
    )
    count = tasks.count()
    routes = sorted({task.route or "" for task in tasks[:200]})
    return {
        "title": _("Today's route"),
        "value": count,
        "url": reverse("vending:restock-route"),
        "hint": ", ".join(route or _("(no route)") for route in routes) if routes else "",
        "rows": [
            {
                "label": _route_row(task, name_route=len(routes) > 1),
                "value": None,
                "url": reverse("vending:restock-detail", args=[task.pk]),
            }
            for task in tasks[:ROWS_SHOWN]
        ],
        "empty": _("No restock task is open. Plan a route from the low-stock list.") if not count else "",
        "figures": {"open": count},
    }


def card_supplier_sales(user, now):
    ids = supplier_ids_for(user)
    lines = OrderLine.objects.filter(product__supplier__in=ids) if ids else OrderLine.objects.none()
    start, _end = day_range(timezone.localdate(now))
    today = product_sales(lines, start, now)
    days = recent_days(now, SUPPLIER_TREND_DAYS)
    week_start, _week_end = day_range(days[-7])
    week = product_sales(lines, week_start, now)
    units = product_units_by_day(lines, days) if ids else [0] * len(days)
    return {
        "title": _("My products sold today"),
        "value": today["units"],
        "url": reverse("vending:supplier-dashboard"),
        "hint": _("worth %(amount)s") % {"amount": _money_text(today["amount"])},
        "rows": [
            {"label": _("Last 7 days, units"), "value": week["units"]},
            {"label": _("Last 7 days, sales"), "value": week["amount"], "money": True},
        ],
        "chart_title": _("Units sold, last %(days)s days") % {"days": SUPPLIER_TREND_DAYS},
        "chart": charts.chart(
            "bar",
            [date_format(day, "SHORT_DATE_FORMAT") for day in days],
            [charts.series(_("Units sold"), units)],
            unit=pgettext("after a count on a chart axis", "units"),
        ),
        "wide": True,
        "figures": {"units_today": today["units"], "amount_today": today["amount"], "units_week": week["units"]},
    }


def card_supplier_restock(user, now):
    ids = supplier_ids_for(user)
    slots = Slot.objects.filter(product__supplier__in=ids) if ids else Slot.objects.none()
    needs = restock_needs(slots)
    return {
        "title": _("Restock needs for my products"),
        "value": needs["units"],
        "url": reverse("vending:supplier-dashboard"),
        "hint": _("units to fill %(slots)s slots to par") % {"slots": needs["slots"]},
        "tone": "warn" if needs["low"] else "",
        "rows": [
            {"label": _("Slots running low"), "value": needs["low"], "url": reverse("vending:supplier-dashboard")}
        ],
        "figures": needs,
    }


def _money_text(amount) -> str:
    from core.templatetags.figures import money

    return money(amount)


card_register(
    key="low-stock",
    order=210,
    roles={PLATFORM_ADMIN, REGIONAL_ADMIN, SERVICE_STAFF},
    permission="vending.view_slot",
    build=card_low_stock,
)
card_register(
    key="todays-route",
    order=160,
    roles={SERVICE_STAFF},
    permission="vending.view_restocktask",
    build=card_todays_route,
)
card_register(
    key="supplier-sales",
    order=500,
    roles={SUPPLIER},
    permission="catalog.view_product",
    build=card_supplier_sales,
)
card_register(
    key="supplier-restock",
    order=510,
    roles={SUPPLIER},
    permission="catalog.view_product",
    build=card_supplier_restock,
)
