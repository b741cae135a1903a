"""The demo has an API partner whose key `make run` prints, and that key works."""

import io

import pytest
from django.core.management import call_command

from orders.demo import DEMO_PARTNER_KEY
from tests.orders.partner_helpers import partner_api


@pytest.mark.django_db
def test_the_demo_partner_key_is_printed_and_works():
    call_command("seed_demo", days=1, orders_per_day=2, verbosity=0)
    out = io.StringIO()
    call_command("demo_banner", stdout=out)
    assert f"Authorization: Partner {DEMO_PARTNER_KEY}" in out.getvalue()
    me = partner_api(DEMO_PARTNER_KEY).get("/api/v1/partner/me/")
    assert me.status_code == 200
    assert me.json()["sites"] and me.json()["banks"]
    assert me.json()["region"] == "Shanghai"
