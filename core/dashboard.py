"""The dashboard, every role's first page: a registry of cards, the time windows they compare,
and which cards a user gets (docs/adr/0024-dashboards-per-role.md).

core owns the registry and the card's shape, not the figures: each app that owns the tables
contributes a `dashboard.py` module (found once, like `demo.py`) with its selectors and its
`card_register(...)` calls, computed for the signed-in user inside their grants. Figures read the
raw tables over time ranges (`created_at >= start AND created_at < end`, never a `__date` cast),
so an index serves them and they can later read the daily roll-ups instead.

A card is a dict: ``{"key", "title", "value", "money", "url", "hint", "tone", "compare": [
{"label", "value", "delta"}], "rows": [{"label", "value", "url", "money"}], "chart", "empty",
"wide"}``; everything but key, title and value is optional. ``figures`` (plain numbers) is what
tests and live updates compare.
"""

from __future__ import annotations

import datetime
import importlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

logger = logging.getLogger(__name__)

# Where the accounting app's commission card goes among the finance cards (between fees and the
# sales trend): it registers `card_register(key="commissions", order=FINANCE_COMMISSIONS_ORDER,
# roles={FINANCE, PLATFORM_ADMIN}, ...)` from accounting/dashboard.py and the slot fills.
FINANCE_COMMISSIONS_ORDER = 345

# Live card groups: what a page's websocket announces before the page asks for those cards again.
LIVE_ORDERS = "orders"
LIVE_FLEET = "fleet"


@dataclass(frozen=True)
class CardSpec:
    key: str
    order: int
    roles: frozenset[str] | None  # None: any role with the permission
    permission: str | None
    build: Callable
    live: str | None = None


CARDS: dict[str, CardSpec] = {}
_discovered = False
_discover_lock = threading.Lock()


def card_register(
    *,
    key: str,
    order: int,
    build: Callable,
    permission: str | None = None,
    roles=None,
    live: str | None = None,
) -> None:
    """`build(user, now)` returns a card dict (see the module docstring) or None to show nothing."""
    CARDS[key] = CardSpec(
        key=key,
        order=order,
        roles=frozenset(roles) if roles is not None else None,
        permission=permission,
        build=build,
        live=live,
    )


def autodiscover() -> None:
    """Import every installed app's `dashboard` module once, so its cards are registered."""
    global _discovered
    if _discovered:
        return
    from django.apps import apps

    with _discover_lock:
        if _discovered:
            return
        for app_config in apps.get_app_configs():
            try:
                importlib.import_module(f"{app_config.name}.dashboard")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app_config.name}.dashboard":
                    raise
        _discovered = True


def user_roles(user) -> frozenset[str]:
    """The roles (group names of staff.roles) a user holds; a superuser is a platform administrator."""
    from staff.roles import PLATFORM_ADMIN, ROLE_LABELS

    cache = user.__dict__.get("_dashboard_roles")
    if cache is not None:
        return cache
    roles = set(user.groups.filter(name__in=list(ROLE_LABELS)).values_list("name", flat=True))
    if user.is_superuser:
        roles.add(PLATFORM_ADMIN)
    user.__dict__["_dashboard_roles"] = frozenset(roles)
    return user.__dict__["_dashboard_roles"]


def cards_for(user) -> list[CardSpec]:
    """The cards `user` gets, in order: their role is listed and they hold the permission."""
    autodiscover()
    roles = user_roles(user)
    chosen = []
    for spec in sorted(CARDS.values(), key=lambda s: (s.order, s.key)):
        if spec.roles is not None and not (spec.roles & roles):
            continue
        if spec.permission and not user.has_perm(spec.permission):
            continue
        chosen.append(spec)
    return chosen


def card_build(spec: CardSpec, user, now=None) -> dict | None:
    card = spec.build(user, now or timezone.now())
    if card is None:
        return None
    card.setdefault("key", spec.key)
    card["live"] = spec.live or ""
    return card


def dashboard_cards(user, *, keys=None, now=None) -> list[dict]:
    """The user's cards, built; with `keys`, only those (the live refresh asks for a few)."""
    now = now or timezone.now()
    cards = []
    for spec in cards_for(user):
        if keys is not None and spec.key not in keys:
            continue
        card = card_build(spec, user, now)
        if card:
            cards.append(card)
    return cards


# --- Time windows ------------------------------------------------------------------------------
def day_start(day: datetime.date) -> datetime.datetime:
    """Midnight at the start of `day` in the deployment's time zone (aware)."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_range(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    return day_start(day), day_start(day + datetime.timedelta(days=1))


@dataclass(frozen=True)
class Window:
    label: str
    start: datetime.datetime
    end: datetime.datetime


def comparison_windows(now: datetime.datetime) -> tuple[Window, Window, Window]:
    """Today so far, yesterday until the same time, the same weekday last week until the same
    time: a morning's sales against a morning's, not against a whole day."""
    from django.utils.translation import gettext as _

    today = timezone.localdate(now)
    start = day_start(today)
    elapsed = now - start
    yesterday = day_start(today - datetime.timedelta(days=1))
    last_week = day_start(today - datetime.timedelta(days=7))
    return (
        Window(_("Today"), start, now),
        Window(_("Yesterday by this time"), yesterday, yesterday + elapsed),
        Window(_("Same weekday last week by this time"), last_week, last_week + elapsed),
    )


def recent_days(now: datetime.datetime, count: int) -> list[datetime.date]:
    today = timezone.localdate(now)
    return [today - datetime.timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def delta_percent(current, previous) -> Decimal | None:
    """The change from `previous` to `current` in percent, one decimal; None without a base."""
    if not previous:
        return None
    return (Decimal(current - previous) * 100 / Decimal(previous)).quantize(Decimal("0.1"))


def compare_rows(values, windows) -> list[dict]:
    """The comparison lines under a card's figure: each earlier window's value and the change."""
    current = values[0]
    return [
        {"label": window.label, "value": value, "delta": delta_percent(current, value)}
        for window, value in zip(windows[1:], values[1:], strict=True)
    ]
