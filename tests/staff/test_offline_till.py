"""The offline till's server side, through HTTP only: the till fetches what it keeps (the store's
shelf with prices and barcodes, the clerk's methods, limits and shift), then sends the cash and
card sales it queued. Each applies once (a resend answers with the first result), the shelf never
goes below zero, conflicts (a changed price, stock that ran out, a limit) are flagged for the
manager, who resolves them, the shift's expected cash includes offline cash, a clerk sends only
for their own stores and shift, and bad input is a 400, never a 500."""

import datetime
import uuid
from decimal import Decimal as D

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import StockLevel, StockLocation
from orders.models import Order, Payment
from staff.models import OfflineSale, StaffProfile
from tests.factories import ProductFactory, UserFactory, stock_shelf

pytestmark = pytest.mark.django_db
SYNC = "/api/v1/till-offline-sales/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(world):
    return client_for(world.clerk)


@pytest.fixture
def goods(world):
    tea = ProductFactory(name="Oolong tea", barcode="6900000001001", sale_price=D("4.00"))
    bun = ProductFactory(name="Pork bun", barcode="6900000001018", sale_price=D("2.50"))
    stock_shelf(world.east_store, tea, 5)
    stock_shelf(world.east_store, bun, 1)
    return tea, bun


@pytest.fixture
def shift(api, world):
    response = api.post("/api/v1/shifts/", {"site": world.east_store.pk, "opening_float": "100.00"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def switches(user, **values):
    StaffProfile.objects.filter(user=user).update(**values)
    user.__dict__.pop("_staff_profile", None)  # the test client reuses this user object


def shelf(world, product):
    return StockLevel.objects.get(
        location__site=world.east_store, location__kind=StockLocation.Kind.SHELF, product=product
    ).quantity


def sale(world, shift, lines, *, method="cash", minutes_ago=0, **extra):
    amount = sum(D(price) * quantity for _product, quantity, price in lines)
    body = {
        "client_id": str(uuid.uuid4()),
        "site": world.east_store.pk,
        "shift": shift,
        "happened_at": (timezone.now() - datetime.timedelta(minutes=minutes_ago)).isoformat(),
        "method": method,
        "lines": [
            {"product": product.pk, "quantity": quantity, "unit_price": price} for product, quantity, price in lines
        ],
        "amount": str(amount),
    }
    if method == "cash":
        body["tendered"] = str(amount + D("10.00"))
    else:
        body["reference"] = "T-0001"
    body.update(extra)
    return body


def test_the_till_keeps_the_stores_shelf_methods_limits_and_shift(api, world, goods, shift):
    tea, _bun = goods
    switches(world.clerk, collect_limit=D("200.00"), collect_methods=["cash", "qr"])
    response = api.get(f"{SYNC}snapshot/", {"site": world.east_store.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    kept = {product["name"]: product for product in body["products"]}
    assert kept["Oolong tea"]["price"] == "4.00" and kept["Oolong tea"]["on_shelf"] == 5
    assert kept["Oolong tea"]["barcode"] == tea.barcode
    assert body["methods"] == ["cash"]  # card is off for this clerk; QR needs the server
    assert body["limits"]["per_collection"] == "200.00"
    assert body["shift"]["id"] == shift
    # Another region's store: refused, nothing kept.
    assert api.get(f"{SYNC}snapshot/", {"site": world.west_store.pk}).status_code == 400
    assert api.get(f"{SYNC}snapshot/", {"site": "x"}).status_code == 400


def test_an_offline_cash_sale_applies_once_and_counts_in_the_shifts_expected_cash(api, world, goods, shift):
    tea, _bun = goods
    body = sale(world, shift, [(tea, 2, "4.00")])
    first = api.post(SYNC, body, format="json")
    assert first.status_code == 201, first.content
    answer = first.json()
    assert answer["status"] == "synced" and answer["flags"] == []
    assert answer["expected_cash"] == "108.00"
    order = Order.objects.get(pk=answer["order"])
    assert order.status == "paid" and order.total == D("8.00")
    payment = Payment.objects.get(order=order)
    assert payment.offline and payment.shift_id == shift
    assert abs(payment.collected_at - datetime.datetime.fromisoformat(body["happened_at"])) < datetime.timedelta(
        seconds=1
    )
    assert shelf(world, tea) == 3

    again = api.post(SYNC, body, format="json")  # the answer was lost; the till sends it again
    assert again.status_code == 200
    assert {k: v for k, v in again.json().items()} == answer
    assert Order.objects.filter(site=world.east_store).count() == 1
    assert Payment.objects.filter(order__site=world.east_store).count() == 1
    assert shelf(world, tea) == 3
    shift_page = api.get(f"/api/v1/shifts/{shift}/").json()
    closed = api.post(f"/api/v1/shifts/{shift}/close/", {"counted_amount": "108.00"}, format="json").json()
    assert closed["expected_amount"] == "108.00" and closed["variance"] == "0.00", (shift_page, closed)

    changed = {**body, "amount": "4.00", "lines": [{"product": tea.pk, "quantity": 1, "unit_price": "4.00"}]}
    reused = api.post(SYNC, changed, format="json")
    assert reused.status_code == 400
    assert "already used" in str(reused.json())


def test_a_changed_price_and_stock_that_ran_out_are_flagged_and_the_shelf_stays_at_zero(api, world, goods, shift):
    tea, bun = goods
    tea.sale_price = D("4.50")  # the price went up while the till was offline
    tea.save()
    response = api.post(SYNC, sale(world, shift, [(tea, 1, "4.00"), (bun, 3, "2.50")]), format="json")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["status"] == "flagged"
    assert sorted(answer["flags"]) == ["price_changed", "stock_out"]
    order = Order.objects.get(pk=answer["order"])
    assert order.total == D("11.50") and order.paid_amount == D("11.50")  # what the customer paid
    assert shelf(world, bun) == 0 and shelf(world, tea) == 4
    listed = api.get(SYNC, {"status": "flagged"}).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    messages = rows[0]["messages"]
    assert any("sold at 4.00" in message and "4.50" in message for message in messages)
    assert any("3 sold, only 1 were on the shelf" in message for message in messages)


def test_a_limit_or_method_the_clerk_lacks_is_flagged_not_lost(api, world, goods, shift):
    tea, _bun = goods
    switches(world.clerk, collect_limit=D("5.00"), collect_methods=["cash"])
    response = api.post(SYNC, sale(world, shift, [(tea, 2, "4.00")], method="card"), format="json")
    assert response.status_code == 201, response.content
    assert sorted(response.json()["flags"]) == ["limit", "method"]
    assert Payment.objects.get(order_id=response.json()["order"]).provider == "card"


def test_the_manager_resolves_a_flagged_sale_and_a_clerk_may_not(api, world, goods, shift, client):
    tea, bun = goods
    answer = api.post(SYNC, sale(world, shift, [(bun, 2, "2.50")]), format="json").json()
    assert answer["status"] == "flagged"
    url = f"{SYNC}{answer['sale']}/resolve/"
    assert api.post(url, {"resolution": "mine"}, format="json").status_code == 403
    manager = client_for(world.manager)
    assert manager.post(url, {"resolution": ""}, format="json").status_code == 400
    resolved = manager.post(url, {"resolution": "Counted the shelf: one bun was missing"}, format="json")
    assert resolved.status_code == 200, resolved.content
    assert resolved.json()["status"] == "resolved"
    assert manager.post(url, {"resolution": "again"}, format="json").status_code == 400
    # And on the manager's page.
    other = api.post(SYNC, sale(world, shift, [(bun, 1, "2.00")]), format="json").json()
    client.force_login(world.manager)
    listing = client.get("/staff/offline-sales/?status=flagged")
    assert listing.status_code == 200 and other["number"].encode() in listing.content
    page = client.post(f"/staff/offline-sales/{other['sale']}/", {"resolution": "Price label was old"}, follow=True)
    assert page.status_code == 200 and b"Price label was old" in page.content
    assert OfflineSale.objects.get(pk=other["sale"]).status == "resolved"


def test_a_clerk_sends_only_for_their_own_store_and_shift(api, world, goods, shift):
    tea, _bun = goods
    west_tea = sale(world, shift, [(tea, 1, "4.00")], site=world.west_store.pk)
    assert api.post(SYNC, west_tea, format="json").status_code in (400, 403)
    colleague = UserFactory(role="clerk")
    StaffProfile.objects.create(user=colleague).sites.add(world.east_store)
    from core.services import scope_grant

    scope_grant(actor=None, user=colleague, target=world.east_store, action="view")
    assert client_for(colleague).post(SYNC, sale(world, shift, [(tea, 1, "4.00")]), format="json").status_code == 403
    assert not OfflineSale.objects.exists() and not Order.objects.exists()
    assert shelf(world, tea) == 5


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "not-a-uuid"},
        {"method": "qr"},
        {"method": "wallet"},
        {"lines": []},
        {"lines": "tea"},
        {"lines": [{"product": 999999, "quantity": 1, "unit_price": "4.00"}]},
        {"lines": [{"product": "TEA", "quantity": 0, "unit_price": "4.00"}]},
        {"amount": "3.00"},
        {"amount": "1e400"},
        {"tendered": "1.00"},
        {"happened_at": "yesterday"},
        {"happened_at": "2000-01-01T00:00:00Z"},
        {"shift": None},
        {"site": "east"},
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(api, world, goods, shift, change):
    tea, _bun = goods
    body = sale(world, shift, [(tea, 1, "4.00")])
    if change.get("lines") and isinstance(change["lines"], list) and change["lines"][0]["product"] == "TEA":
        change = {"lines": [{**change["lines"][0], "product": tea.pk}]}
    body.update(change)
    response = api.post(SYNC, body, format="json")
    assert response.status_code == 400, (change, response.status_code, response.content[:300])
    assert not OfflineSale.objects.exists() and not Order.objects.exists()


def test_a_sale_in_the_future_or_a_card_without_reference_is_refused(api, world, goods, shift):
    tea, _bun = goods
    assert api.post(SYNC, sale(world, shift, [(tea, 1, "4.00")], minutes_ago=-60), format="json").status_code == 400
    assert (
        api.post(SYNC, sale(world, shift, [(tea, 1, "4.00")], method="card", reference=""), format="json").status_code
        == 400
    )
    assert api.post(SYNC, "garbage", content_type="application/json").status_code == 400


def test_a_sale_arriving_after_its_shift_closed_is_flagged_and_the_count_stays(api, world, goods, shift):
    tea, _bun = goods
    body = sale(world, shift, [(tea, 1, "4.00")], minutes_ago=1)
    closed = api.post(f"/api/v1/shifts/{shift}/close/", {"counted_amount": "104.00"}, format="json").json()
    assert closed["expected_amount"] == "100.00"
    response = api.post(SYNC, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["flags"] == ["shift_closed"]
    assert api.get(f"/api/v1/shifts/{shift}/").json()["expected_amount"] == "100.00"


def test_the_till_page_registers_its_service_worker_which_keeps_the_page_and_its_scripts(world, client):
    client.force_login(world.clerk)
    page = client.get("/staff/cashier/")
    assert b'data-sw="/staff/cashier/sw.js"' in page.content and b"offline-till.js" in page.content
    client.logout()
    worker = client.get("/staff/cashier/sw.js")  # a script of file names, no data: no sign-in needed
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("application/javascript")
    body = worker.content.decode()
    assert '"/staff/cashier/"' in body and '"/static/staff/till.js"' in body and "/static/staff/offline" in body
    assert "<script" not in body


def test_a_clerk_without_the_collect_switch_keeps_nothing_and_cannot_send(api, world, goods, shift):
    tea, _bun = goods
    body = sale(world, shift, [(tea, 1, "4.00")])
    switches(world.clerk, can_collect=False)
    assert api.get(f"{SYNC}snapshot/", {"site": world.east_store.pk}).status_code == 403
    # A sale made before the switch went off still arrives (the money was taken), flagged.
    response = api.post(SYNC, body, format="json")
    assert response.status_code == 201 and "collect_switch" in response.json()["flags"]
