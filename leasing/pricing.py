"""Lease pricing: a pure, table-driven function of the plan and the usage time.

Rules, in order (every amount in the deployment currency, rounded half-up to cents at the end of
each step):

1. Usage is counted in whole minutes, a started minute counts (61 seconds = 2 minutes).
2. Usage within the plan's free minutes costs nothing at all.
3. Otherwise the whole usage (free minutes included) is split into 24-hour periods counted from
   the moment of rental — not calendar days, so midnight changes nothing.
4. Each period costs its started units (`unit_minutes`, e.g. 60 for an hourly price) times the
   unit price, but never more than the daily cap.
5. The sum never exceeds the maximum total; a lease that reaches it has bought the item.
6. Late fees (after the plan's `due_minutes`, if any) are `late_fee` per started late period of
   `late_period_minutes`, up to `late_fee_cap`, added on top (and not limited by rule 5).

Examples (unit 60 min at 3.00, 5 free minutes, cap 30.00/day, maximum 99.00):
  4 min → 0.00 · 5 min → 0.00 · 6 min → 3.00 · 60 min → 3.00 · 61 min → 6.00 ·
  23 h → 30.00 (capped) · 25 h → 30.00 + 3.00 = 33.00 · 4 days → 99.00 (maximum: bought).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
DAY_MINUTES = 24 * 60


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Plan:
    unit_minutes: int
    unit_price: Decimal
    free_minutes: int = 0
    daily_cap: Decimal | None = None
    max_total: Decimal | None = None
    due_minutes: int | None = None
    late_period_minutes: int = 60
    late_fee: Decimal = Decimal("0")
    late_fee_cap: Decimal | None = None


@dataclass(frozen=True)
class Bill:
    minutes: int
    usage: Decimal
    late_fee: Decimal
    bought: bool

    @property
    def total(self) -> Decimal:
        return _money(self.usage + self.late_fee)


def minutes_between(start, end) -> int:
    seconds = (end - start).total_seconds()
    if seconds < 0:
        raise ValueError("a lease cannot end before it starts")
    return math.ceil(seconds / 60)


def price(plan: Plan, minutes: int) -> Bill:
    if minutes < 0:
        raise ValueError("negative usage")
    if minutes <= plan.free_minutes:
        return Bill(minutes=minutes, usage=_money(0), late_fee=_money(0), bought=False)
    usage = Decimal(0)
    remaining = minutes
    while remaining > 0:
        period = min(remaining, DAY_MINUTES)
        cost = math.ceil(period / plan.unit_minutes) * plan.unit_price
        if plan.daily_cap is not None:
            cost = min(cost, plan.daily_cap)
        usage += cost
        remaining -= period
    usage = _money(usage)
    bought = plan.max_total is not None and usage >= plan.max_total
    if bought:
        usage = _money(plan.max_total)
    late = Decimal(0)
    if plan.due_minutes is not None and minutes > plan.due_minutes and plan.late_fee:
        late = math.ceil((minutes - plan.due_minutes) / plan.late_period_minutes) * plan.late_fee
        if plan.late_fee_cap is not None:
            late = min(late, plan.late_fee_cap)
    return Bill(minutes=minutes, usage=usage, late_fee=_money(late), bought=bought)
