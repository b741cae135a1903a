"""Restocking: a low-stock alert once per dip below the threshold, restock tasks with their pick
list and prekit, the confirmation that writes movements (refused whole when it overfills), the
supplier's own dashboard, and the order export."""

import csv
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.models import Notification
from core.services import scope_grant
from inventory.models import StockLocation, StockMovement
from inventory.services import level_for, stock_move
from tests.factories import ProductFactory
from tests.vending.test_sale_flow import _buy
from vending.models import RestockTask
from vending.restock import low_slots, prekit, restock_confirm, restock_task_create
from vending.services import slot_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def service(slot, world):
    scope_grant(actor=None, user=world.service, target=slot.device.site.region, action="view")
    return world.service


def test_a_slot_at_its_threshold_alerts_the_service_staff_once(slot, service, django_capture_on_commit_callbacks):
    for n in range(8):  # 10 → 2, the threshold
        _buy(slot, f"r-{n}", django_capture_on_commit_callbacks)
    assert Notification.objects.filter(template="stock_low", recipient_id=service.pk).count() == 1
    _buy(slot, "r-8", django_capture_on_commit_callbacks)
    assert Notification.objects.filter(template="stock_low", recipient_id=service.pk).count() == 1
    assert list(low_slots(service)) == [slot]


def test_restock_tasks_pick_par_minus_level_and_confirm_into_the_slots(slot, machine, service):
    other = slot_create(device=machine, code="A2", product=slot.product, capacity=8, par_level=8)
    slot.level.par_level = 20
    slot.level.save()
    van = StockLocation.objects.create(kind=StockLocation.Kind.VEHICLE, name="Van 1", site=machine.site)
    stock_move(level=level_for(location=van, product=slot.product), quantity=30, reason="restock")
    task = restock_task_create(device=machine, actor=service, source=van, route="North")
    assert sorted((line.slot.code, line.planned) for line in task.lines.all()) == [("A1", 10), ("A2", 8)]
    (kit,) = prekit([task])
    assert kit["product"] == slot.product and kit["quantity"] == 18
    lines = {line.slot.code: line.pk for line in task.lines.all()}
    with pytest.raises(ValidationError, match="A2"):
        restock_confirm(task=task, quantities={lines["A1"]: 10, lines["A2"]: 9}, actor=service)  # 9 > capacity 8
    assert StockMovement.objects.filter(reference=f"restock-{task.pk}").count() == 0
    restock_confirm(task=task, quantities={lines["A1"]: 10, lines["A2"]: 6}, actor=service)
    slot.level.refresh_from_db()
    other.level.refresh_from_db()
    assert (slot.level.quantity, other.level.quantity) == (20, 6)
    assert level_for(location=van, product=slot.product).quantity == 14
    task.refresh_from_db()
    assert task.status == "done" and task.done_by == service
    with pytest.raises(ValidationError, match="already done"):
        restock_confirm(task=task, quantities={}, actor=service)


def test_nothing_to_restock_is_refused(slot, machine, service):
    slot.level.par_level = 10
    slot.level.save()
    with pytest.raises(ValidationError, match="needs nothing"):
        restock_task_create(device=machine, actor=service)


def test_the_phone_page_confirms_a_restock(slot, machine, service, client):
    slot.level.par_level = 15
    slot.level.save()
    task = restock_task_create(device=machine, actor=service)
    client.force_login(service)
    page = reverse("vending:restock-detail", args=[task.pk])
    (line,) = task.lines.all()
    assert client.get(page).status_code == 200
    response = client.post(page, {f"line-{line.pk}": "abc"}, follow=True)
    assert "whole numbers" in response.content.decode()
    client.post(page, {f"line-{line.pk}": "5"})
    slot.level.refresh_from_db()
    assert slot.level.quantity == 15
    plan = client.post(reverse("vending:restock-plan"), {"devices": [machine.pk], "route": "R1"})
    assert plan.status_code == 200 and "needs nothing" in plan.content.decode()
    assert RestockTask.objects.count() == 1


def test_suppliers_see_only_their_own_products_on_their_dashboard(slot, world, client):
    own = slot_create(device=slot.device, code="B1", product=ProductFactory(supplier=world.supplier), capacity=5)
    client.force_login(world.supplier_user)
    page = client.get(reverse("vending:supplier-dashboard")).content.decode()
    assert f'data-pk="{own.product.pk}"' in page
    assert f'data-pk="{slot.product.pk}"' not in page
    assert client.get(reverse("vending:slot-list")).status_code == 403
    assert client.get(reverse("orders:order-export")).status_code == 403


def test_the_order_export_has_the_pages_filters_and_scope(world, client):
    from tests.factories import make_order

    inside = make_order(site=world.east_store, paid=True)
    outside = make_order(site=world.west_store, paid=True)
    client.force_login(world.regional)
    body = client.get(reverse("orders:order-export"), {"format": "csv"}).content.decode("utf-8-sig")
    numbers = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    assert inside.number in numbers and outside.number not in numbers
    xlsx = client.get(reverse("orders:order-export"), {"format": "xlsx"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(2, 1).value == inside.number
    assert client.get(reverse("orders:order-export"), {"format": "pdf"}).status_code == 404


def test_planogram_page_edits_slots_and_the_import_is_all_or_nothing(slot, machine, world, client):
    from catalog.models import Product
    from vending.models import Slot

    scope_grant(actor=None, user=world.regional, target=machine.site.region, action="change")
    client.force_login(world.regional)
    page = reverse("vending:planogram", args=[machine.pk])
    assert f'data-slot="{slot.code}"' in client.get(page).content.decode()
    client.post(
        page,
        {
            "slot_id": slot.pk,
            "price": "4.50",
            "capacity": "25",
            "par_level": "20",
            "low_threshold": "3",
            "is_active": "1",
        },
    )
    slot.refresh_from_db()
    slot.level.refresh_from_db()
    assert (slot.price, slot.level.capacity, slot.level.par_level) == (D("4.50"), 25, 20)
    response = client.post(page, {"slot_id": slot.pk, "capacity": "5"}, follow=True)  # holds 10
    assert "cannot be lower" in response.content.decode()
    other = ProductFactory()
    response = client.post(page, {"slot_id": slot.pk, "product": other.sku, "capacity": "25"}, follow=True)
    assert "empty it before changing" in response.content.decode()
    client.post(page, {"code": "B9", "product": other.sku, "capacity": "8"})
    assert Slot.objects.filter(device=machine, code="B9", product=other).exists()

    good = f"machine,slot,product,price,capacity,par_level\n{machine.serial_number},C1,{other.sku},3.00,10,8\n{machine.serial_number},C2,{other.sku},,12,\n"
    bad = good + f"{machine.serial_number},C1,{other.sku},x,0,99\nUNKNOWN,C3,NOPE,1,1,\n"
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(reverse("vending:planogram-import"), {"file": SimpleUploadedFile("p.csv", bad.encode())})
    text = response.content.decode()
    assert "Nothing was imported" in text and "appears twice" in text and "no product with this SKU" in text
    assert not Slot.objects.filter(code__in=["C1", "C2"]).exists()
    response = client.post(reverse("vending:planogram-import"), {"file": SimpleUploadedFile("p.csv", good.encode())})
    assert response.status_code == 302
    assert Slot.objects.get(device=machine, code="C1").level.par_level == 8
    assert Product.objects.filter(pk=other.pk).exists()


def test_order_history_filters_by_product_and_machine(slot, world, client, django_capture_on_commit_callbacks):
    sold = _buy(slot, "h-1", django_capture_on_commit_callbacks)
    scope_grant(actor=None, user=world.regional, target=slot.device.site.region, action="view")
    client.force_login(world.regional)
    body = client.get(
        reverse("orders:order-export"), {"format": "csv", "product": slot.product.sku, "device": slot.device.pk}
    ).content.decode("utf-8-sig")
    numbers = [row[0] for row in csv.reader(io.StringIO(body))][1:]
    assert numbers == [sold.order.number]
    body = client.get(reverse("orders:order-export"), {"format": "csv", "product": "OTHER"}).content.decode("utf-8-sig")
    assert len(body.strip().splitlines()) == 1
    api = client.get("/api/v1/orders/", {"product": slot.product.sku}).json()
    assert [row["number"] for row in api["results"]] == [sold.order.number]


def test_machines_import_registers_in_scope_and_refuses_bad_rows(world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from devices.models import Device

    client.force_login(world.regional)
    url = reverse("vending:planogram-import")
    bad = (
        "serial,name,kind,site,latitude\n"
        f"VM-NEW-1,Lobby,vending,{world.east_store.code},31.2\n"
        f"VM-NEW-2,Hall,toaster,{world.west_store.code},91\n"
    )
    text = client.post(url, {"what": "machines", "file": SimpleUploadedFile("m.csv", bad.encode())}).content.decode()
    assert "no site with this code in your scope" in text and "not a coordinate" in text and "one of" in text
    assert not Device.objects.filter(serial_number__startswith="VM-NEW").exists()
    good = f"serial,name,kind,site\nVM-NEW-1,Lobby,vending,{world.east_store.code}\n"
    response = client.post(url, {"what": "machines", "file": SimpleUploadedFile("m.csv", good.encode())})
    assert response.status_code == 302
    assert Device.objects.get(serial_number="VM-NEW-1").site == world.east_store


def test_staff_see_the_dashboard_for_their_scope_only(slot, world, client):
    from tests.factories import DeviceFactory, SiteFactory

    elsewhere = DeviceFactory(kind="vending", site=SiteFactory(region=world.west))
    far = slot_create(device=elsewhere, code="Z1", product=slot.product, capacity=99)
    stock_move(level=far.level, quantity=99, reason="restock")
    scope_grant(actor=None, user=world.manager, target=slot.device.site, action="view")
    client.force_login(world.manager)
    page = client.get(reverse("vending:supplier-dashboard")).content.decode()
    assert f'data-pk="{slot.product.pk}"' in page
    assert "<td>10</td>" in page and "<td>109</td>" not in page  # the west machine's 99 are not counted
