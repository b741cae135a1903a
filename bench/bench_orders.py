"""Order creation through the spine vs a bare insert of the same rows.

`order_create` does the number upsert, lines, the first OrderEvent and the after-commit
announcement; the baseline inserts an Order, its line and an event directly. The ratio says what
the spine's guarantees cost per order.
"""

from decimal import Decimal

from common import django_setup, report, test_database, timed

N = 300


def main():
    django_setup()
    from django.db import transaction
    from django.utils import timezone

    from core.models import Region, Site
    from orders.models import Order, OrderEvent, OrderLine
    from orders.services import LineSpec, order_create

    with test_database():
        region = Region.objects.create(name="Bench", code="bench", kind=Region.Kind.CITY)
        site = Site.objects.create(name="Bench store", code="bench-store", region=region, kind=Site.Kind.STORE)
        counter = iter(range(10**9))

        def baseline():
            with transaction.atomic():
                for _ in range(N):
                    order = Order.objects.create(
                        number=f"X{next(counter):010d}",
                        kind="counter",
                        status="new",
                        region=region,
                        site=site,
                        currency="CNY",
                        subtotal=Decimal("3.50"),
                        total=Decimal("3.50"),
                        created_at=timezone.now(),
                    )
                    OrderLine.objects.create(
                        order=order,
                        description="Cola",
                        quantity=1,
                        unit_price=Decimal("3.50"),
                        line_total=Decimal("3.50"),
                    )
                    OrderEvent.objects.create(order=order, actor_kind="system", actor_label="bench", action="created")

        def spine():
            with transaction.atomic():
                for _ in range(N):
                    order_create(kind="counter", actor=None, site=site, lines=[LineSpec("Cola", Decimal("3.50"))])

        base = timed(baseline)
        measured = timed(spine)
        report(
            "orders.create",
            {
                "baseline_orders_per_s": round(N / base, 1),
                "spine_orders_per_s": round(N / measured, 1),
                "baseline_s": round(base, 4),
                "spine_s": round(measured, 4),
            },
            baseline_key="baseline_s",
            measured_key="spine_s",
        )


if __name__ == "__main__":
    main()
