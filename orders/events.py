"""Order changes, seen by other apps in two ways, both registered from their AppConfig.ready():

- transition hooks run inside the transaction of a status change, with the order row locked: what
  must happen together with the change or not at all (a paid vending sale gets its dispense
  command in the same commit, so no crash can leave it paid and never dispensed);
- listeners run after commit (accounting, reports, notifications), and live pages get the change
  through the channel layer;
- refund hooks, per order kind, run inside a refund's transaction, with the order row locked,
  before the provider gives the money back: what the kind must take back together with the
  refund (a refunded recharge leaves the wallet) or refuse it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OrderChanged:
    order_id: int
    number: str
    kind: str
    region_id: int
    site_id: int | None
    device_id: int | None
    from_status: str
    to_status: str
    action: str
    # What listeners check before touching the database (None: unknown, look it up).
    customer_id: int | None = None
    discounted: bool | None = None
    # The API partner that created the order; None for orders no partner made.
    partner_id: int | None = None


_LISTENERS: list[Callable[[OrderChanged], None]] = []
_TRANSITION_HOOKS: list[Callable] = []


def transition_hook_register(hook: Callable) -> None:
    """`hook(order, from_status, actor)` runs inside every status change, after its event is
    written, with `order` locked. An exception rolls the whole change back.

    The order's row is written once, after the hooks: a hook reads the order from the instance it
    is given (its status is already the new one) and moves it on through that same instance
    (`order_transition(order=order, ..., locked=True)`); transitioning a copy read from the
    database is refused."""
    if hook not in _TRANSITION_HOOKS:
        _TRANSITION_HOOKS.append(hook)


def transition_hooks() -> tuple[Callable, ...]:
    return tuple(_TRANSITION_HOOKS)


_REFUND_HOOKS: dict[str, list[Callable]] = {}


def refund_hook_register(kind: str, hook: Callable) -> None:
    """`hook(order=order, refund=refund, actor=actor)` runs inside every refund of an order of
    `kind`, with the order row locked and the refund row written, before the provider is asked.
    Raising (a ValidationError with the reason) refuses the refund and writes nothing; if the
    provider then fails, what the hook wrote is rolled back with it."""
    hooks = _REFUND_HOOKS.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def refund_hooks(kind: str) -> tuple[Callable, ...]:
    return tuple(_REFUND_HOOKS.get(kind, ()))


def listener_register(listener: Callable[[OrderChanged], None]) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def announce(change: OrderChanged) -> None:
    """Called on commit. One failing listener is logged and never stops the others."""
    for listener in list(_LISTENERS):
        try:
            listener(change)
        except Exception:
            logger.exception("Order listener %r failed for %s", listener, change.number)
    _publish_live(change)


_PATHS: dict[int, tuple[float, str]] = {}
PATH_TTL_SECONDS = 30.0


def _region_path(region_id: int) -> str:
    """Regions move rarely; their paths are remembered for half a minute per process."""
    import time

    from core.models import Region

    cached = _PATHS.get(region_id)
    now = time.monotonic()
    if cached and now - cached[0] < PATH_TTL_SECONDS:
        return cached[1]
    path = Region.objects.filter(pk=region_id).values_list("path", flat=True).first() or ""
    _PATHS[region_id] = (now, path)
    return path


def order_groups(change: OrderChanged) -> list[str]:
    """`orders.all`, every region on the order's path, its site: what a consumer may join."""
    path = _region_path(change.region_id)
    groups = ["orders.all", *(f"orders.region.{part}" for part in path.strip("/").split("/") if part)]
    if change.site_id:
        groups.append(f"orders.site.{change.site_id}")
    return groups


def _publish_live(change: OrderChanged) -> None:
    from core.live import group_send_many

    try:
        groups = order_groups(change)
    except Exception:
        logger.exception("Could not work out who sees %s live", change.number)
        return
    group_send_many(groups, {"type": "order.changed", "order": change.__dict__})


def announce_money(
    *, order, kind: str, amount, provider: str, actor_label: str, pk: int, offline: bool = False
) -> None:
    """After commit: a collection or refund for the live monitoring feed (same scoped groups)."""
    from core.live import group_send_many

    change = OrderChanged(
        order_id=order.pk,
        number=order.number,
        kind=order.kind,
        region_id=order.region_id,
        site_id=order.site_id,
        device_id=order.device_id,
        from_status=order.status,
        to_status=order.status,
        action=kind,
    )
    message = {
        "type": "money.moved",
        "money": {
            "kind": kind,
            "id": pk,
            "order_id": order.pk,
            "number": order.number,
            "site_id": order.site_id,
            # The site's name only when it is at hand: the live feed never costs the till a query.
            "site": str(order._state.fields_cache["site"])
            if order.site_id and "site" in order._state.fields_cache
            else "",
            "amount": str(amount),
            "provider": provider,
            "actor": actor_label,
            "offline": offline,
        },
    }

    def send():
        try:
            group_send_many(order_groups(change), message)
        except Exception:
            logger.exception("Could not publish %s of %s", kind, order.number)

    from django.db import transaction

    transaction.on_commit(send, robust=True)
