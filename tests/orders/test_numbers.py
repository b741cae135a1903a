"""Order numbers: kind letter + YYMMDD + daily sequence, never shared under concurrency."""

import datetime
import threading

import pytest
from django.db import connection, transaction

from orders.models import Order, OrderKind
from orders.services import order_number_next
from tests.factories import SiteFactory, make_order


@pytest.mark.django_db
def test_numbers_carry_kind_day_and_a_daily_sequence():
    day = datetime.date(2026, 11, 22)
    assert order_number_next(kind=OrderKind.VENDING, day=day) == "V2611220001"
    assert order_number_next(kind=OrderKind.VENDING, day=day) == "V2611220002"
    # Another kind and another day count from one again.
    assert order_number_next(kind=OrderKind.LOCKER, day=day) == "L2611220001"
    assert order_number_next(kind=OrderKind.VENDING, day=day + datetime.timedelta(days=1)) == "V2611230001"


@pytest.mark.django_db
def test_sequence_grows_past_four_digits_without_colliding():
    from orders.models import OrderSequence

    day = datetime.date(2026, 11, 22)
    OrderSequence.objects.create(prefix="S", day=day, last=9999)
    assert order_number_next(kind=OrderKind.COUNTER, day=day) == "S26112210000"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_creating_two_hundred_orders_each_get_distinct_numbers():
    site = SiteFactory()
    numbers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work():
        try:
            start.wait()
            mine = []
            for _ in range(200):
                with transaction.atomic():
                    mine.append(make_order(site=site).number)
            with lock:
                numbers.extend(mine)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == 1600
    assert len(set(numbers)) == 1600
    assert Order.objects.count() == 1600
