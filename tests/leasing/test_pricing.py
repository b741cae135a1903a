"""Table-driven lease pricing: each expected amount written out."""

import datetime
from decimal import Decimal as D

import pytest

from leasing.pricing import Plan, minutes_between, price

HOURLY = Plan(unit_minutes=60, unit_price=D("3.00"), free_minutes=5, daily_cap=D("30.00"), max_total=D("99.00"))
LATE = Plan(
    unit_minutes=60,
    unit_price=D("2.00"),
    due_minutes=24 * 60,
    late_period_minutes=60,
    late_fee=D("5.00"),
    late_fee_cap=D("20.00"),
    daily_cap=D("20.00"),
)


@pytest.mark.parametrize(
    ("minutes", "usage", "bought"),
    [
        (0, "0.00", False),
        (4, "0.00", False),  # inside the free minutes
        (5, "0.00", False),  # exactly at the free boundary
        (6, "3.00", False),  # one minute past: the first hour, free minutes included
        (60, "3.00", False),  # exactly one unit
        (61, "6.00", False),  # a started unit counts
        (9 * 60, "27.00", False),
        (10 * 60, "30.00", False),  # exactly at the daily cap
        (23 * 60, "30.00", False),  # capped
        (24 * 60, "30.00", False),  # exactly one day
        (25 * 60, "33.00", False),  # a second 24-hour period starts
        (3 * 24 * 60, "90.00", False),  # three capped days
        (3 * 24 * 60 + 60 * 4, "99.00", True),  # 90 + 12 → the maximum: bought
        (10 * 24 * 60, "99.00", True),
    ],
)
def test_usage_prices(minutes, usage, bought):
    bill = price(HOURLY, minutes)
    assert (bill.usage, bill.bought, bill.late_fee) == (D(usage), bought, D("0.00"))


def test_across_midnight_costs_the_same_as_any_other_hour():
    start = datetime.datetime(2026, 11, 23, 23, 30)
    assert minutes_between(start, datetime.datetime(2026, 11, 24, 0, 30)) == 60
    assert price(HOURLY, minutes_between(start, datetime.datetime(2026, 11, 24, 0, 30))).usage == D("3.00")
    assert minutes_between(start, start + datetime.timedelta(seconds=61)) == 2  # a started minute counts


@pytest.mark.parametrize(
    ("minutes", "usage", "late"),
    [
        (24 * 60, "20.00", "0.00"),  # due exactly: no late fee
        (24 * 60 + 1, "22.00", "5.00"),  # one minute late: one late period
        (24 * 60 + 120, "24.00", "10.00"),
        (24 * 60 + 600, "40.00", "20.00"),  # late fees hit their cap (10 periods × 5.00 → 20.00)
    ],
)
def test_late_fees_up_to_their_cap(minutes, usage, late):
    bill = price(LATE, minutes)
    assert (bill.usage, bill.late_fee, bill.total) == (D(usage), D(late), D(usage) + D(late))


def test_a_lease_cannot_end_before_it_starts():
    start = datetime.datetime(2026, 11, 23, 12, 0)
    with pytest.raises(ValueError):
        minutes_between(start, start - datetime.timedelta(minutes=1))
