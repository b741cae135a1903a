"""seed_demo loads every app's demo data once; running it again changes nothing."""

import pytest
from django.apps import apps
from django.core.management import call_command


def _counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.app_label != "sessions"}


@pytest.mark.django_db
def test_seed_demo_loads_every_role_and_is_idempotent(django_capture_on_commit_callbacks, client):
    with django_capture_on_commit_callbacks(execute=True):  # as seed_demo's own commit runs them
        call_command("seed_demo", days=2, orders_per_day=3, verbosity=0)
    first = _counts()
    assert first["core.Region"] >= 3 and first["core.Site"] >= 10
    assert first["devices.Device"] >= 30 and first["catalog.Product"] >= 60
    assert first["orders.Order"] > 0
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    roles = (
        "platform_admin",
        "regional_admin",
        "store_manager",
        "clerk",
        "service_staff",
        "supplier",
        "finance",
        "partner",
    )
    for role in roles:
        assert users.filter(groups__name=role).exists(), role
    # Members bought from the app at machines, in every state, and rented power banks.
    from leasing.models import Lease
    from orders.models import Order

    app_sales = Order.objects.filter(kind="vending", channel="app")
    assert {"completed", "refunded", "fulfilling"} <= set(app_sales.values_list("status", flat=True))
    assert {"in_use", "returned", "cancelled"} <= set(Lease.objects.values_list("stage", flat=True))
    # The demo store's manager has an offline sale to resolve: a price and the shelf did not match.
    from staff.models import OfflineSale

    flagged = OfflineSale.objects.get(site__code="sh-store-1", status="flagged")
    assert {flag["kind"] for flag in flagged.flags} == {"price_changed", "stock_out"}
    # Customers booked locker compartments in the app: waiting for the parcel, ready, collected, refused.
    from lockers.models import LockerOrder

    booked = LockerOrder.objects.filter(order__channel="app")
    assert {"assigned", "ready", "collected", "cancelled"} <= set(booked.values_list("stage", flat=True))
    from core.models import OutboxMessage

    booker = booked.first().order.customer.phone[-8:]
    assert OutboxMessage.objects.filter(template="pickup_ready", address__endswith=booker).count() >= 2
    # Revenue partners with rules (one changed: two versions) and accruals over the history.
    assert first["accounting.Partner"] >= 5 and first["accounting.Accrual"] > 0
    assert first["accounting.SharingRule"] > first["accounting.Partner"]
    assert users.get(username="partner").revenue_partners.exists()
    call_command("seed_demo", days=2, orders_per_day=3, verbosity=0)
    assert _counts() == first
    _every_dashboard_has_something_to_show(client)


def _every_dashboard_has_something_to_show(client):
    """Each demo login's first page shows figures of the demo, not an empty "welcome"."""
    import re

    from django.contrib.auth import get_user_model

    def figures(username):
        client.force_login(get_user_model().objects.get(username=username))
        html = client.get("/").content.decode()
        return {
            key: float(value)
            for key, card in re.findall(r'data-card="([^"]+)"(.*?)</section>', html, re.S)
            for value in re.findall(r'data-value="([^"]*)"', card)
        }

    admin = figures("admin")
    assert admin["sales-trend"] > 0 and admin["approvals"] >= 1 and admin["staff-alerts"] >= 1 and admin["devices"] > 0
    manager = figures("manager")
    assert manager["open-shifts"] == 1 and manager["approvals"] == 1 and manager["takings-by-method"] > 0
    assert figures("clerk")["my-shift"] > 0
    service = figures("service")
    assert service["todays-route"] >= 1 and service["open-faults"] >= 1 and service["low-stock"] >= 1
    finance = figures("finance")
    assert finance["takings-by-method"] > 0 and finance["sales-today"] > 0
    assert "supplier-restock" in figures("supplier")
