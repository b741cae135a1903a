"""The staff pages and API end to end through the Django client: the till, approvals, alerts,
performance and its exports, clerk administration."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import AuditEntry
from members.models import Feedback
from orders.models import Order, Refund
from staff.anomalies import anomaly_check_now
from staff.counter import SaleLine, counter_collect, counter_sale_create, shift_close, shift_open
from staff.models import AnomalyRule, RefundApproval, StaffAlert, StaffProfile

pytestmark = pytest.mark.django_db
D = Decimal


def _till(client, world, float_="100.00"):
    client.force_login(world.clerk)
    response = client.post(reverse("staff:shift-open"), {"site": world.east_store.pk, "opening_float": float_})
    assert response.status_code == 302


def _sale(client, world, amount="35.50", quantity=1):
    response = client.post(
        reverse("staff:cashier"),
        {"form": "sale", "site": world.east_store.pk, "description": "Snacks", "amount": amount, "quantity": quantity},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    return Order.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_the_till_sells_collects_cash_with_change_and_prints_a_receipt(world, client):
    _till(client, world)
    order = _sale(client, world, amount="35.50", quantity=2)
    assert order.total == D("71.00") and order.created_by == world.clerk and order.channel == "counter"
    page = reverse("staff:cashier-order", args=[order.pk])
    response = client.post(
        page, {"form": "collect", "method": "cash", "amount": "71.00", "tendered": "100.00"}, follow=True
    )
    assert "Change: 29.00" in response.content.decode()
    order.refresh_from_db()
    assert order.status == "paid"
    receipt = client.get(reverse("staff:receipt", args=[order.pk])).content.decode()
    assert order.number in receipt and "29.00" in receipt and "@media print" in receipt


def test_the_till_refuses_bad_input_with_messages_and_changes_nothing(world, client):
    _till(client, world)
    order = _sale(client, world, amount="10.00")
    page = reverse("staff:cashier-order", args=[order.pk])
    for data, message in [
        ({"method": "cash", "amount": "10.00", "tendered": "5.00"}, "less than the amount"),
        ({"method": "card", "amount": "10.00"}, "terminal"),
        ({"method": "cash", "amount": "-3"}, "greater than or equal to 0.01"),
        ({"method": "bitcoin", "amount": "10.00"}, "Select a valid choice"),
        ({"method": "cash", "amount": "11.00", "tendered": "20"}, "more than the"),
    ]:
        response = client.post(page, {"form": "collect", **data})
        assert response.status_code == 200 and message in response.content.decode(), message
    assert Order.objects.get(pk=order.pk).paid_amount == 0
    response = client.post(
        reverse("staff:cashier"), {"form": "sale", "site": world.west_store.pk, "description": "x", "amount": "1"}
    )
    assert response.status_code == 200 and not Order.objects.filter(site=world.west_store).exists()


def test_refund_above_the_limit_waits_for_the_manager_on_the_pages(world, client):
    _till(client, world)
    order = _sale(client, world, amount="80.00")
    page = reverse("staff:cashier-order", args=[order.pk])
    client.post(page, {"form": "collect", "method": "cash", "amount": "80.00", "tendered": "80.00"})
    response = client.post(page, {"form": "refund", "amount": "70.00", "reason": "broken"}, follow=True)
    assert "sent for approval" in response.content.decode()
    approval = RefundApproval.objects.get(order=order)
    assert not Refund.objects.filter(order=order).exists()
    # The clerk may see it but not decide.
    detail = reverse("staff:approval-detail", args=[approval.pk])
    assert client.post(detail, {"decision": "approve"}).status_code == 403
    client.force_login(world.manager)
    listing = client.get(reverse("staff:approval-list"), {"status": "pending"}).content.decode()
    assert order.number in listing
    response = client.post(detail, {"decision": "approve", "reason": "checked"}, follow=True)
    assert "70.00 refunded" in response.content.decode()
    response = client.post(detail, {"decision": "approve"}, follow=True)
    assert "already approved" in response.content.decode()
    assert Refund.objects.filter(order=order).count() == 1
    log = client.get(reverse("orders:order-detail", args=[order.pk])).content.decode()
    assert 'data-action="refund.approved"' in log and 'data-action="refund.requested"' in log


def test_api_refund_over_limit_is_202_and_outside_permissions_is_403_logged(world, api_client):
    shift_open(actor=world.clerk, site=world.east_store, opening_float=D("0"))
    api_client.force_authenticate(world.clerk)
    created = api_client.post(
        "/api/v1/counter-orders/",
        {"site": world.east_store.pk, "lines": [{"description": "Goods", "unit_price": "90.00", "quantity": 1}]},
        format="json",
    )
    assert created.status_code == 201, created.content
    order_id = created.json()["id"]
    paid = api_client.post(
        f"/api/v1/counter-orders/{order_id}/collect/", {"method": "cash", "tendered": "100"}, format="json"
    )
    assert paid.status_code == 200 and paid.json()["change"] == "10.00"
    small = api_client.post(
        f"/api/v1/counter-orders/{order_id}/refund/", {"amount": "20.00", "reason": "x"}, format="json"
    )
    assert small.status_code == 201 and small.json()["refund"]["amount"] == "20.00"
    big = api_client.post(
        f"/api/v1/counter-orders/{order_id}/refund/", {"amount": "60.00", "reason": "y"}, format="json"
    )
    assert big.status_code == 202 and big.json()["approval"]["status"] == "pending"
    approval_id = big.json()["approval"]["id"]
    assert api_client.post(f"/api/v1/refund-approvals/{approval_id}/approve/", {}, format="json").status_code == 403
    StaffProfile.objects.filter(user=world.clerk).update(can_collect=False)
    world.clerk.__dict__.pop("_staff_profile", None)  # the test reuses one user object across requests
    other = counter_sale_create(actor=world.manager, site=world.east_store, lines=[SaleLine(None, 1, "x", D("5"))])
    refused = api_client.post(
        f"/api/v1/counter-orders/{other.pk}/collect/", {"method": "card", "reference": "T1"}, format="json"
    )
    assert refused.status_code == 403 and "may not collect" in refused.json()["detail"]
    assert AuditEntry.objects.filter(actor=world.clerk, action="denied.collect").exists()

    api_client.force_authenticate(world.manager)
    approved = api_client.post(f"/api/v1/refund-approvals/{approval_id}/approve/", {"reason": "ok"}, format="json")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = api_client.post(f"/api/v1/refund-approvals/{approval_id}/reject/", {"reason": "no"}, format="json")
    assert again.status_code == 400
    assert Order.objects.get(pk=order_id).refunded_amount == D("80.00")


def test_anomaly_rules_raise_alerts_with_evidence_once(world, client, django_capture_on_commit_callbacks):
    AnomalyRule.objects.create(region=world.root, kind=AnomalyRule.Kind.LARGE_AMOUNT, threshold=D("500"))
    AnomalyRule.objects.create(region=world.east, kind=AnomalyRule.Kind.LARGE_AMOUNT, threshold=D("50"))  # nearer wins
    AnomalyRule.objects.create(region=world.east, kind=AnomalyRule.Kind.REFUNDS_PER_HOUR, threshold=D("1"))
    AnomalyRule.objects.create(region=world.east, kind=AnomalyRule.Kind.SHIFT_VARIANCE, threshold=D("5"))
    AnomalyRule.objects.create(region=world.east, kind=AnomalyRule.Kind.REFUND_RATIO, threshold=D("10"))
    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=D("100"))
    order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "TV", D("60"))])
    with django_capture_on_commit_callbacks(execute=True):
        payment = counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("60")).payment
    (alert,) = StaffAlert.objects.filter(kind="large_amount")
    assert (
        alert.clerk == world.clerk
        and alert.evidence["order"] == order.number
        and alert.evidence["threshold"] == "50.00"
    )
    assert anomaly_check_now("payment", payment.pk) == []  # raised once only
    from staff.counter import refund_request

    for _ in range(2):
        small = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "x", D("5"))])
        with django_capture_on_commit_callbacks(execute=True):
            counter_collect(actor=world.clerk, order=small, method="cash", tendered=D("5"))
            refund_request(actor=world.clerk, order=small, amount=D("5"), reason="r")
    (hourly,) = StaffAlert.objects.filter(kind="refunds_per_hour")
    assert len(hourly.evidence["refunds"]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        shift_close(actor=world.clerk, shift=shift, counted_amount=D("150"))  # expected 100 + 60 + 5 + 5 − 5 − 5
    (variance,) = StaffAlert.objects.filter(kind="shift_variance")
    assert variance.evidence["variance"] == "-10.00"
    # Managers are told, and see the alerts; the west region's administrators would not.
    from core.models import Notification

    assert Notification.objects.filter(template="staff_alert", recipient_id=world.manager.pk).count() == 4
    client.force_login(world.manager)
    page = client.get(reverse("staff:alert-list")).content.decode()
    assert "-10.00" in page
    # The limit reads as the manager typed it ("limit 10%"), not as Decimal's exponent form (1E+1).
    (ratio,) = StaffAlert.objects.filter(kind="refund_ratio")
    assert "(limit 10%)" in ratio.message and "(limit 10%)" in page and "E+1" not in page
    # Raised by the worker, read in the reader's language; the evidence lists its values plainly.
    assert "_message" not in page and f"shift: {variance.evidence['shift']}" in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("staff:alert-list")).content.decode()
    assert "今日退款占收款的 14.3%（上限 10%）" in page and "of today's collections" not in page
    assert "上限" in client.get(reverse("core:dashboard")).content.decode()
    client.cookies["django_language"] = "en"
    client.post(reverse("staff:alert-ack", args=[variance.pk]))
    variance.refresh_from_db()
    assert variance.acknowledged_by == world.manager


def test_outside_opening_hours_is_flagged(world, django_capture_on_commit_callbacks):
    import datetime

    from django.utils import timezone

    AnomalyRule.objects.create(region=world.east, kind=AnomalyRule.Kind.OUTSIDE_HOURS)
    now = timezone.localtime()
    site = world.east_store
    site.opening_time = (now + datetime.timedelta(hours=2)).time()
    site.closing_time = (now + datetime.timedelta(hours=3)).time()
    site.save()
    shift_open(actor=world.clerk, site=site, opening_float=D("0"))
    order = counter_sale_create(actor=world.clerk, site=site, lines=[SaleLine(None, 1, "x", D("5"))])
    with django_capture_on_commit_callbacks(execute=True):
        counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("5"))
    assert StaffAlert.objects.filter(kind="outside_hours", clerk=world.clerk).count() == 1


def test_performance_table_chart_and_exports(world, client):
    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=D("0"))
    for amount in ("10.00", "20.00"):
        order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "x", D(amount))])
        counter_collect(actor=world.clerk, order=order, method="cash", tendered=D(amount))
    from staff.counter import refund_request

    refund_request(actor=world.clerk, order=order, amount=D("5"), reason="r")
    shift_close(actor=world.clerk, shift=shift, counted_amount=D("25"))
    Feedback.objects.create(region=world.east, site=world.east_store, clerk=world.clerk, order=order, rating=4)
    Feedback.objects.create(region=world.east, site=world.east_store, clerk=world.clerk, rating=5)
    client.force_login(world.manager)
    page = client.get(reverse("staff:performance")).content.decode()
    assert f'data-user="{world.clerk.pk}"' in page and "4.5" in page
    # The console chart component, and money with two decimals (never 30.0000000000).
    assert 'data-chart="performance-chart"' in page and '<td class="num">30.00</td>' in page
    csv_body = client.get(reverse("staff:performance"), {"export": "csv"}).content.decode("utf-8-sig")
    header, row = csv_body.splitlines()[:2]
    assert header.startswith("Clerk,Collections,Collected")
    assert ",2,30.0,1,5.0,0," in row
    xlsx = client.get(reverse("staff:performance"), {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(2, 2).value == 2 and sheet.cell(2, 3).value == 30.0
    # A clerk with "own" reports sees only their own row; without reports, nothing.
    client.force_login(world.clerk)
    assert client.get(reverse("staff:performance")).status_code == 200
    StaffProfile.objects.filter(user=world.clerk).update(reports="none")
    assert client.get(reverse("staff:performance")).status_code == 403


def test_clerk_pages_add_edit_deactivate(world, client, settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    client.force_login(world.manager)
    response = client.post(
        reverse("staff:clerk-create"),
        {
            "name": "Wang Wei",
            "gender": "male",
            "phone": "13900001111",
            "role": "clerk",
            "sites": [world.east_store.pk],
            "send_by": "sms",
            "can_collect": "on",
            "can_refund": "on",
            "refund_limit": "30",
            "refund_daily_limit": "100",
            "reports": "own",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    profile = StaffProfile.objects.get(user__username="13900001111")
    assert profile.refund_limit == D("30.00") and profile.user.must_change_password
    detail = reverse("staff:clerk-detail", args=[profile.pk])
    data = {
        "action": "save",
        "sites": [world.east_store.pk],
        "can_collect": "on",
        "refund_limit": "40",
        "refund_daily_limit": "100",
        "reports": "store",
    }
    client.post(detail, data)
    profile.refresh_from_db()
    assert profile.refund_limit == D("40.00") and not profile.can_refund and profile.reports == "store"
    client.post(detail, {"action": "deactivate", "reason": "left"})
    profile.user.refresh_from_db()
    assert not profile.user.is_active
    assert AuditEntry.objects.filter(action="staff.deactivate", object_id=str(profile.user.pk)).exists()
    activity = client.get(reverse("staff:clerk-activity", args=[profile.pk]))
    assert activity.status_code == 200
    # Bad input: a duplicate phone is a form error, nothing is created.
    response = client.post(
        reverse("staff:clerk-create"),
        {
            "name": "Dup",
            "phone": "13900001111",
            "role": "clerk",
            "sites": [world.east_store.pk],
            "send_by": "sms",
            "reports": "own",
        },
    )
    assert response.status_code == 200 and "already logs in" in response.content.decode()


def test_every_staff_page_renders_with_data(world, client):
    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=D("10"))
    order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "x", D("80"))])
    counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("100"))
    from staff.counter import refund_request

    approval = refund_request(actor=world.clerk, order=order, amount=D("60"), reason="r").approval
    AnomalyRule.objects.create(region=world.east, kind=AnomalyRule.Kind.LARGE_AMOUNT, threshold=D("1"))
    client.force_login(world.regional)
    for url in [
        reverse("staff:cashier"),
        reverse("staff:cashier-order", args=[order.pk]),
        reverse("staff:receipt", args=[order.pk]),
        reverse("staff:shift-list"),
        reverse("staff:approval-list"),
        reverse("staff:approval-detail", args=[approval.pk]),
        reverse("staff:alert-list"),
        reverse("staff:rule-list"),
        reverse("staff:rule-edit"),
        reverse("staff:monitor"),
        reverse("staff:performance"),
        reverse("staff:clerk-list"),
        reverse("staff:clerk-create"),
        reverse("staff:clerk-detail", args=[world.clerk.profile.pk]),
        reverse("staff:clerk-activity", args=[world.clerk.profile.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    assert shift.pk
    response = client.post(
        reverse("staff:rule-edit"),
        {"region": world.east.pk, "kind": "large_amount", "threshold": "99", "is_active": "on"},
    )
    assert response.status_code == 302, response.context["form"].errors
    assert AnomalyRule.objects.get(region=world.east, kind="large_amount").threshold == D("99")
