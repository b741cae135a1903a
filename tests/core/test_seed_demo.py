"""seed_demo loads every app's demo data once; running it again changes nothing."""

import pytest
from django.apps import apps
from django.core.management import call_command


def _counts():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.app_label != "sessions"}


@pytest.mark.django_db
def test_seed_demo_loads_every_role_and_is_idempotent(django_capture_on_commit_callbacks):
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
    # Revenue partners with rules (one changed: two versions) and accruals over the history.
    assert first["accounting.Partner"] >= 5 and first["accounting.Accrual"] > 0
    assert first["accounting.SharingRule"] > first["accounting.Partner"]
    assert users.get(username="partner").revenue_partners.exists()
    call_command("seed_demo", days=2, orders_per_day=3, verbosity=0)
    assert _counts() == first
