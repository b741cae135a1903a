"""The demo's order history, written set-based: the rows the services write for a sale (order,
lines with the cost-price snapshot, payment with its fee, refund, the event log, stock movements)
built in memory and inserted with `bulk_create`, because a quarter of machine and counter sales
through the services one by one takes minutes. The shape is the services' own (tests/core/
test_demo_history.py holds it to their invariants); what is sold when follows `demand`: weekly and
yearly seasonality, China's public holidays and make-up working days, a growth trend, and products
that sell every day beside slow movers that sell now and then. Nothing here is used outside the demo.
"""

from __future__ import annotations

import contextlib
import datetime
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils import timezone

from orders.models import KIND_PREFIX, Order, OrderEvent, OrderLine, OrderSequence, OrderStatus, Payment, Refund

CENT = Decimal("0.01")
S = OrderStatus
# A rest day sells more at venues (people out) and the year peaks in summer for drinks; the
# amplitudes are what makes each pattern visible in 90 days of a handful of sales a day.
WEEKDAY = (0.95, 0.9, 0.95, 1.0, 1.15, 1.3, 1.2)  # Monday..Sunday on a normal week
REST_DAY = 1.25  # a weekend or public holiday that is not a make-up working day
PUBLIC_HOLIDAY = 1.35  # on top of REST_DAY: Golden Week, Spring Festival...
YEARLY_AMPLITUDE = {"drinks": 0.35, "snacks": -0.12, "daily": 0.0}  # cos peak late July (negative: winter)
YEARLY_PEAK_DAY = 205
TREND_PER_DAY = 0.003  # the fleet grows: +0.3 % a day over the history
HOURS = [(7, 2), (8, 5), (9, 4), (10, 4), (11, 6), (12, 9), (13, 7), (14, 5), (15, 5), (16, 5), (17, 7)]
HOURS += [(18, 9), (19, 8), (20, 6), (21, 4), (22, 2)]


def _calendar():
    try:
        import holidays
    except ImportError:  # the demo still runs, without its holidays
        return None
    today = timezone.localdate()
    return holidays.China(years=range(today.year - 1, today.year + 2))


_CN = None


def china():
    global _CN
    if _CN is None:
        _CN = _calendar() or {}
    return _CN


def is_rest_day(day: datetime.date) -> bool:
    cn = china()
    if hasattr(cn, "is_working_day"):
        return not cn.is_working_day(day)  # holidays and weekends, but not make-up working days
    return day.weekday() >= 5


def demand(day: datetime.date, *, start: datetime.date, category: str = "") -> float:
    """The day's multiplier of a product's base rate."""
    factor = WEEKDAY[day.weekday()] if not is_rest_day(day) or day.weekday() >= 5 else WEEKDAY[5]
    if day.weekday() >= 5 and not is_rest_day(day):
        factor = WEEKDAY[4]  # a make-up working Saturday sells like a weekday
    if is_rest_day(day):
        factor *= REST_DAY
    if day in china():
        factor *= PUBLIC_HOLIDAY
    amplitude = YEARLY_AMPLITUDE.get(category, 0.0)
    factor *= 1 + amplitude * math.cos(2 * math.pi * (day.timetuple().tm_yday - YEARLY_PEAK_DAY) / 365.25)
    factor *= 1 + TREND_PER_DAY * (day - start).days
    return max(factor, 0.05)


def poisson(rnd, rate: float) -> int:
    """Knuth's method: rates here are a few a day."""
    if rate <= 0:
        return 0
    limit, count, product = math.exp(-rate), 0, rnd.random()
    while product > limit:
        count += 1
        product *= rnd.random()
    return count


def moment(rnd, day: datetime.date) -> datetime.datetime:
    hour = rnd.choices([h for h, _w in HOURS], weights=[w for _h, w in HOURS])[0]
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time(hour, rnd.randrange(60), rnd.randrange(60)))
    )


def fee(method: str, amount: Decimal) -> Decimal:
    rate = Decimal(str(getattr(settings, "PAYMENT_FEE_RATES", {}).get(method, "0")))
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


@contextlib.contextmanager
def stamps_kept(*models):
    """bulk_create stamps auto_now(_add) fields with the present; history keeps its own times."""
    flipped = []
    for model in models:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                flipped.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, now, add in flipped:
            f.auto_now, f.auto_now_add = now, add


@dataclass
class Actor:
    kind: str  # orders.models.ActorKind
    label: str
    user_id: int | None = None


@dataclass
class Sale:
    order: Order
    lines: list[OrderLine] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunds: list[tuple[Refund, Actor, str]] = field(default_factory=list)  # refund, actor, to_status
    events: list[tuple] = field(default_factory=list)  # (at, actor, action, from, to, reason, data, needs)
    movements: list = field(default_factory=list)  # inventory.StockMovement, reference set on flush
    extra: list = field(default_factory=list)  # (model instance, attribute to set to the order)


class History:
    """Sales collected in memory, then written in one go by `flush()`."""

    def __init__(self):
        self.sales: list[Sale] = []
        self.sequence: dict[tuple[str, datetime.date], int] = {}
        for prefix, day, last in OrderSequence.objects.values_list("prefix", "day", "last"):
            self.sequence[(prefix, day)] = last

    def number(self, kind: str, day: datetime.date) -> str:
        prefix = KIND_PREFIX[kind]
        last = self.sequence.get((prefix, day), 0) + 1
        self.sequence[(prefix, day)] = last
        return f"{prefix}{day:%y%m%d}{last:04d}"

    def sale(
        self,
        *,
        kind,
        at,
        region_id,
        site_id=None,
        device_id=None,
        channel,
        actor: Actor,
        lines,
        customer_id=None,
        **fields,
    ):
        """A new order with `lines` [(product, quantity, unit_price)], its "created" event. A line
        without a product (a compartment, a recharge, a rental's bill) is (None, quantity,
        unit_price, description); `fields` are further order fields (partner_id,
        external_reference)."""
        total = sum((line[2] * line[1] for line in lines), Decimal("0.00"))
        order = Order(
            number=self.number(kind, timezone.localdate(at)),
            kind=kind,
            status=S.NEW,
            customer_id=customer_id,
            region_id=region_id,
            site_id=site_id,
            device_id=device_id,
            channel=channel,
            currency=getattr(settings, "CURRENCY", "CNY"),
            subtotal=total,
            total=total,
            created_at=at,
            updated_at=at,
            created_by_id=actor.user_id,
            **fields,
        )
        sale = Sale(order=order)
        for line in lines:
            self.line(sale, *line)
        sale.events.append((at, actor, "created", "", S.NEW, "", {"total": str(total)}))
        self.sales.append(sale)
        return sale

    def line(self, sale: Sale, product, quantity, price, description=""):
        sale.lines.append(
            OrderLine(
                product=product,
                description=product.name if product is not None else description,
                quantity=quantity,
                unit_price=price,
                cost_price=product.cost_price if product is not None else Decimal("0.00"),
                line_total=price * quantity,
            )
        )

    def add_line(self, sale: Sale, *, at, actor: Actor, description: str, price, action: str = "line.added"):
        """A line added later (a rental's bill at return), as orders.services.order_add_line logs it."""
        order = sale.order
        self.line(sale, None, 1, price, description)
        order.subtotal += price
        order.total += price
        order.updated_at = at
        sale.events.append((at, actor, action, order.status, order.status, "", {"amount": str(order.total)}))

    def note(self, sale: Sale, action: str, *, at, actor: Actor, reason="", data=None):
        """Something that happened without a change of status (orders.services.order_note)."""
        status = sale.order.status
        sale.events.append((at, actor, action, status, status, reason, data or {}))

    def pay(self, sale: Sale, *, at, method: str, actor: Actor, data=None, reference="", collected_by_id=None):
        order = sale.order
        payment = Payment(
            provider=method,
            amount=order.total,
            fee=fee(method, order.total),
            status=Payment.Status.SUCCEEDED,
            reference=reference,
            data=data or {},
            created_at=at,
            succeeded_at=at,
            collected_at=at,
            collected_by_id=collected_by_id,
        )
        sale.payments.append(payment)
        order.paid_amount, order.paid_at, order.status = order.total, at, S.PAID
        sale.events.append(
            (
                at,
                actor,
                "payment",
                S.NEW,
                S.NEW,
                "",
                {"provider": method, "amount": str(order.total), "reference": reference},
                payment,
            )
        )
        sale.events.append((at, actor, "status", S.NEW, S.PAID, "", {}, payment))
        return payment

    def move(self, sale: Sale, to_status: str, *, at, actor: Actor, action: str = "status", reason="", data=None):
        order = sale.order
        sale.events.append((at, actor, action, order.status, to_status, reason, data or {}))
        order.status = to_status
        if to_status == S.PAID and order.paid_at is None:
            order.paid_at = at
        if to_status == S.COMPLETED:
            order.completed_at = at
        order.updated_at = at

    def refund(self, sale: Sale, *, at, actor: Actor, reason: str, amount=None, to_status=S.REFUNDED):
        order = sale.order
        payment = sale.payments[0]
        amount = amount or order.total
        refund = Refund(
            amount=amount,
            status=Refund.Status.SUCCEEDED,
            reason=reason,
            reference=f"{payment.provider}-refund-{order.number}-{len(sale.refunds) + 1}",
            requested_by_id=actor.user_id,
            created_at=at,
            succeeded_at=at,
        )
        sale.refunds.append((refund, actor, payment))
        order.refunded_amount += amount
        sale.events.append(
            (
                at,
                actor,
                "refund",
                order.status,
                order.status,
                reason,
                {"amount": str(amount), "provider": payment.provider},
                refund,
            )
        )
        if order.refunded_amount >= order.total:
            self.move(sale, to_status, at=at, actor=actor, reason=reason)

    def flush(self) -> list[Sale]:
        """Write every collected sale; returns them with their primary keys."""
        from inventory.models import StockMovement

        sales, self.sales = self.sales, []
        if not sales:
            return []
        with stamps_kept(Order, Payment, Refund, OrderEvent, StockMovement):
            Order.objects.bulk_create([s.order for s in sales], batch_size=500)
            for s in sales:
                for row in s.lines + s.payments:
                    row.order = s.order
            OrderLine.objects.bulk_create([row for s in sales for row in s.lines], batch_size=1000)
            Payment.objects.bulk_create([row for s in sales for row in s.payments], batch_size=1000)
            refunds = []
            for s in sales:
                for refund, _actor, payment in s.refunds:
                    refund.order, refund.payment = s.order, payment
                    refunds.append(refund)
            Refund.objects.bulk_create(refunds, batch_size=1000)
            events = []
            for s in sales:
                for at, actor, action, before, after, reason, data, *needs in s.events:
                    data = dict(data)
                    if needs and isinstance(needs[0], Payment):
                        data["payment"] = needs[0].pk
                    elif needs and isinstance(needs[0], Refund):
                        data["refund"] = needs[0].pk
                    events.append(
                        OrderEvent(
                            order=s.order,
                            at=at,
                            actor_kind=actor.kind,
                            actor_user_id=actor.user_id,
                            actor_label=actor.label,
                            action=action,
                            from_status=before,
                            to_status=after,
                            reason=reason,
                            data=data,
                        )
                    )
            OrderEvent.objects.bulk_create(events, batch_size=1000)
            movements = []
            for s in sales:
                for movement in s.movements:
                    movement.reference = s.order.number
                    movements.append(movement)
            StockMovement.objects.bulk_create(movements, batch_size=1000)
            for s in sales:
                for instance, attribute in s.extra:
                    setattr(instance, attribute, s.order)
            by_model: dict = {}
            for s in sales:
                for instance, _attribute in s.extra:
                    by_model.setdefault(type(instance), []).append(instance)
            for model, rows in by_model.items():
                with stamps_kept(model):
                    model.objects.bulk_create(rows, batch_size=1000)
        self._save_sequence()
        return sales

    def _save_sequence(self):
        """Later orders of the same days (the services') continue the numbering."""
        existing = {(p, d): pk for pk, p, d in OrderSequence.objects.values_list("pk", "prefix", "day")}
        new, changed = [], []
        for (prefix, day), last in self.sequence.items():
            if (prefix, day) in existing:
                changed.append(OrderSequence(pk=existing[(prefix, day)], prefix=prefix, day=day, last=last))
            else:
                new.append(OrderSequence(prefix=prefix, day=day, last=last))
        OrderSequence.objects.bulk_create(new, batch_size=1000)
        OrderSequence.objects.bulk_update(changed, ["last"], batch_size=1000)


def movement(level, delta: int, reason: str, at, actor_label: str, note: str = ""):
    from inventory.models import StockMovement

    return StockMovement(level=level, delta=delta, reason=reason, note=note, actor_label=actor_label, at=at)


def levels_settle(level_ids) -> None:
    """Each level holds the sum of its movements (the history moved them in bulk): one UPDATE."""
    from django.db.models import IntegerField, OuterRef, Subquery, Sum
    from django.db.models.functions import Coalesce

    from inventory.models import StockLevel, StockMovement

    moved = (
        StockMovement.objects.filter(level_id=OuterRef("pk"))
        .order_by()
        .values("level_id")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    StockLevel.objects.filter(pk__in=list(level_ids)).update(
        quantity=Coalesce(Subquery(moved, output_field=IntegerField()), 0)
    )


def commands_write(commands, *, actor_label: str) -> None:
    """Device commands of the history (a dispense, an eject, a door opened) with their delivery log,
    each queued, sent and acknowledged when created and finished at `finished_at`."""
    from devices.models import DeviceCommand, DeviceCommandEvent

    logs = []
    with stamps_kept(DeviceCommand, DeviceCommandEvent):
        DeviceCommand.objects.bulk_create(commands, batch_size=1000)
        for command in commands:
            end = command.status
            for before, after in (("", "queued"), ("queued", "sent"), ("sent", "acknowledged"), ("acknowledged", end)):
                logs.append(
                    DeviceCommandEvent(
                        command=command,
                        from_status=before,
                        to_status=after,
                        actor_label=actor_label,
                        at=command.finished_at if after == end else command.created_at,
                    )
                )
        DeviceCommandEvent.objects.bulk_create(logs, batch_size=2000)
