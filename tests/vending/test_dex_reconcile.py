"""DEX reconciliation against the real rhevendors audit: selection 1 sold 3 since the previous
read, the platform saw 1 of them; selection 2 sold 4 and the platform saw 4."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from gateway.services import dex_import
from inventory.models import StockMovement
from inventory.services import stock_move
from tests.factories import ProductFactory
from tests.gateway.test_dex import RHEVENDORS
from tests.vending.test_sale_flow import _buy
from vending.reconcile import difference_accept, reconcile
from vending.services import slot_create

pytestmark = pytest.mark.django_db


def taken(content: bytes, when) -> bytes:
    """The file as if the machine had read it at `when` (its ID5, in the machine's local time)."""
    return content.replace(b"ID5*231127*1011", timezone.localtime(when).strftime("ID5*%Y%m%d*%H%M").encode())


def _later():
    return RHEVENDORS.replace(b"PA2*602*29790*600*29790", b"PA2*605*29940*603*29940").replace(
        b"PA2*1176*70440*1175*70440", b"PA2*4*240*4*240"
    )


def test_differences_are_listed_and_accepted_once_as_stock_adjustments(
    machine, world, client, django_capture_on_commit_callbacks
):
    one = slot_create(device=machine, code="1", product=ProductFactory(), capacity=50)
    two = slot_create(device=machine, code="2", product=ProductFactory(), capacity=50)
    for slot in (one, two):
        stock_move(level=slot.level, quantity=20, reason="restock")
    dex_import(device=machine, content=taken(RHEVENDORS, timezone.now() - timedelta(hours=1)), source="upload")
    _buy(one, "s1", django_capture_on_commit_callbacks)
    for n in range(4):
        _buy(two, f"s2-{n}", django_capture_on_commit_callbacks)
    read, _created = dex_import(
        device=machine, content=taken(_later(), timezone.now() + timedelta(minutes=1)), source="gateway"
    )
    lines = {line.selection: line for line in reconcile(read)}
    assert (lines["1"].dex_count, lines["1"].platform_count, lines["1"].difference) == (3, 1, 2)
    assert lines["2"].difference == 0
    with pytest.raises(ValidationError, match="Say why"):
        difference_accept(read=read, selection="1", actor=world.service, reason=" ")
    with pytest.raises(ValidationError, match="counts agree"):
        difference_accept(read=read, selection="2", actor=world.service, reason="x")
    difference_accept(read=read, selection="1", actor=world.service, reason="cash vends at the coin mech")
    one.level.refresh_from_db()
    assert one.level.quantity == 20 - 1 - 2
    assert StockMovement.objects.get(reference=f"dex-{read.pk}-1").delta == -2
    with pytest.raises(ValidationError, match="already accepted"):
        difference_accept(read=read, selection="1", actor=world.service, reason="again")
    from core.services import scope_grant

    scope_grant(actor=None, user=world.service, target=machine.site.region, action="view")
    client.force_login(world.service)
    page = client.get(reverse("vending:dex-reconcile", args=[read.pk])).content.decode()
    assert 'data-selection="1"' in page and "cash vends at the coin mech" in page
