"""Members: points earned and spent, levels by spend, RFM segments, feedback with replies, and the
customers' sign-in by SMS code with a token that reaches their own data only."""

import datetime
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Notification, RateCounter
from core.sms import OutboxSMSProvider
from members.models import Customer, Feedback, LoginCode, MemberLevel, PointsEntry
from members.services import (
    SignInCodeLimited,
    feedback_reply,
    feedback_submit,
    login_code_request,
    login_code_verify,
    phone_normalise,
    rfm_recompute,
)
from orders.models import Order
from orders.services import payment_collect
from tests.factories import CustomerFactory, SiteFactory, make_order

pytestmark = pytest.mark.django_db


def _paid(site, customer, total, callbacks):
    order = make_order(site=site, total=D(total), customer=customer)
    with callbacks(execute=True):
        payment_collect(order=order, provider="cash", amount=order.total, actor=None)
    return order


def test_phone_numbers_are_validated_and_normalised():
    assert phone_normalise("138 0013 8000") == "+8613800138000"
    assert phone_normalise("+44 20 7946 0958") == "+442079460958"
    for bad in ("12345", "abc", "", "+86 100"):
        with pytest.raises(ValidationError):
            phone_normalise(bad)


def test_points_are_earned_once_levels_follow_spend_and_points_pay(django_capture_on_commit_callbacks):
    MemberLevel.objects.create(level=1, name="Silver", min_spend=D("100"), points_multiplier=D("2"))
    site, customer = SiteFactory(), CustomerFactory()
    first = _paid(site, customer, "120.00", django_capture_on_commit_callbacks)
    customer.refresh_from_db()
    assert (customer.points, customer.total_spent, customer.level) == (120, D("120.00"), 1)
    # Announcing the same payment again earns nothing more.
    from members.services import points_on_paid
    from orders.events import OrderChanged

    points_on_paid(
        OrderChanged(first.pk, first.number, first.kind, first.region_id, site.pk, None, "new", "paid", "paid")
    )
    _paid(site, customer, "10.00", django_capture_on_commit_callbacks)
    customer.refresh_from_db()
    assert customer.points == 140  # silver earns double
    order = make_order(site=site, total=D("1.00"), customer=customer)
    payment = payment_collect(order=order, provider="points", amount=D("1.00"), actor=None)
    assert payment.status == "succeeded"
    customer.refresh_from_db()
    assert customer.points == 40
    too_much = make_order(site=site, total=D("5.00"), customer=customer)
    failed = payment_collect(order=too_much, provider="points", amount=D("5.00"), actor=None)
    assert failed.status == "failed" and Customer.objects.get(pk=customer.pk).points == 40
    assert sum(PointsEntry.objects.filter(customer=customer).values_list("delta", flat=True)) == 40


def test_rfm_segments_are_recomputed_as_tags(django_capture_on_commit_callbacks):
    site = SiteFactory()
    champion, lapsed = CustomerFactory(), CustomerFactory()
    for _ in range(5):
        _paid(site, champion, "20.00", django_capture_on_commit_callbacks)
    old = _paid(site, lapsed, "20.00", django_capture_on_commit_callbacks)
    Order.objects.filter(pk=old.pk).update(paid_at=timezone.now() - datetime.timedelta(days=200))
    Customer.objects.filter(pk=lapsed.pk).update(created_at=timezone.now() - datetime.timedelta(days=400))
    assert rfm_recompute() == 2
    assert rfm_recompute() == 0  # the same day again changes nothing
    champion.refresh_from_db()
    lapsed.refresh_from_db()
    assert (champion.segment, lapsed.segment) == ("champion", "lost")
    assert "champion" in champion.tags


def test_feedback_from_a_customer_and_the_staff_reply(world):
    order = make_order(site=world.east_store, customer=CustomerFactory(), paid=True)
    feedback = feedback_submit(customer=order.customer, rating=2, comment="Too slow", order=order)
    assert feedback.region == world.east and feedback.status == "open"
    with pytest.raises(ValidationError, match="not your order"):
        feedback_submit(customer=CustomerFactory(), rating=5, order=order)
    with pytest.raises(ValidationError, match="1 to 5"):
        feedback_submit(customer=order.customer, rating=9, order=order)
    feedback_reply(feedback=feedback, actor=world.manager, reply="Sorry, we added a till.")
    feedback.refresh_from_db()
    assert feedback.status == "replied" and feedback.replied_by == world.manager
    assert Notification.objects.filter(template="feedback_reply", recipient_id=order.customer.pk).exists()


@pytest.fixture
def outbox(settings):
    settings.SMS_PROVIDER = "core.sms.OutboxSMSProvider"
    OutboxSMSProvider.outbox = []
    return OutboxSMSProvider.outbox


def _code(outbox):
    return outbox[-1][1].split("code is ")[1][:6]


def test_sign_in_by_sms_code_is_rate_limited_expiring_and_single_use(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        login_code_request(phone="13800138000")
    code = _code(outbox)
    assert code not in str(list(Notification.objects.values_list("body", flat=True)))
    with pytest.raises(SignInCodeLimited, match="for this number") as limited:
        login_code_request(phone="+86 138 0013 8000")
    assert 55 <= limited.value.retry_after <= 60
    with pytest.raises(ValidationError, match="not right"):
        login_code_verify(phone="13800138000", code="000000" if code != "000000" else "111111")
    customer, token = login_code_verify(phone="13800138000", code=code)
    assert customer.phone == "+8613800138000" and len(token) > 30
    with pytest.raises(ValidationError, match="expired"):
        login_code_verify(phone="13800138000", code=code)  # used
    RateCounter.objects.update(window_end=timezone.now())  # the minute has passed
    with django_capture_on_commit_callbacks(execute=True):
        login_code_request(phone="13800138000")
    LoginCode.objects.filter(used_at__isnull=True).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ValidationError, match="expired"):
        login_code_verify(phone="13800138000", code=_code(outbox))


def test_the_customer_api_reaches_only_the_customers_own_data(outbox, api_client, django_capture_on_commit_callbacks):
    site = SiteFactory()
    response = api_client.post("/api/v1/customer/sign-in/", {"phone": "13900139000"}, format="json")
    assert response.status_code == 202
    with django_capture_on_commit_callbacks(execute=True):
        pass
    code = LoginCode.objects.get()
    assert code.code_hash and len(outbox) in (0, 1)
    # The code went out after commit; read it from the outbox, or send again after the minute.
    if not outbox:
        RateCounter.objects.update(window_end=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            api_client.post("/api/v1/customer/sign-in/", {"phone": "13900139000"}, format="json")
    bad = api_client.post("/api/v1/customer/sign-in/verify/", {"phone": "13900139000", "code": "99999"}, format="json")
    assert bad.status_code == 400
    token = api_client.post(
        "/api/v1/customer/sign-in/verify/", {"phone": "13900139000", "code": _code(outbox)}, format="json"
    ).json()["token"]
    me = Customer.objects.get(phone="+8613900139000")
    mine = make_order(site=site, customer=me, paid=True)
    theirs = make_order(site=site, customer=CustomerFactory(), paid=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Customer {token}")
    profile = api_client.get("/api/v1/customer/me/").json()
    assert profile["phone"] == "+8613900139000" and profile["balance"] == "0.00"
    ids = {row["id"] for row in api_client.get("/api/v1/customer/orders/").json()["results"]}
    assert ids == {mine.pk}
    assert api_client.get(f"/api/v1/customer/orders/{theirs.pk}/").status_code == 404
    created = api_client.post(
        "/api/v1/customer/feedback/", {"rating": 4, "comment": "Nice", "order": mine.pk}, format="json"
    )
    assert created.status_code == 201
    refused = api_client.post("/api/v1/customer/feedback/", {"rating": 4, "order": theirs.pk}, format="json")
    assert refused.status_code == 400
    assert Feedback.objects.filter(customer=me).count() == 1
    # A customer token opens no staff endpoint; a bad token opens nothing.
    assert api_client.get("/api/v1/orders/").status_code in (401, 403)
    api_client.credentials(HTTP_AUTHORIZATION="Customer not-a-token")
    assert api_client.get("/api/v1/customer/me/").status_code == 401


def test_staff_pages_customer_detail_and_feedback_inbox(world, client):
    customer = CustomerFactory(home_region=world.east)
    order = make_order(site=world.east_store, customer=customer, paid=True)
    feedback = feedback_submit(customer=customer, rating=3, comment="Queue was long", order=order)
    client.force_login(world.regional)
    page = client.get(f"/members/customers/{customer.pk}/").content.decode()
    assert order.number in page and 'id="balance"' in page
    client.force_login(world.manager)  # the store's manager answers feedback about the store
    inbox = client.get("/members/feedback/", {"status": "open"}).content.decode()
    assert f'data-pk="{feedback.pk}"' in inbox
    response = client.post(f"/members/feedback/{feedback.pk}/", {"reply": "Thank you, noted.", "close": "1"})
    assert response.status_code == 302
    feedback.refresh_from_db()
    assert feedback.status == "closed" and feedback.replied_by == world.manager
    empty = client.post(f"/members/feedback/{feedback.pk}/", {"reply": "  "}, follow=True)
    assert "Write a reply" in empty.content.decode()


def test_customers_stored_with_a_national_number_sign_in_as_themselves(outbox, django_capture_on_commit_callbacks):
    existing = CustomerFactory(phone="13700137000")
    with django_capture_on_commit_callbacks(execute=True):
        login_code_request(phone="+86 137 0013 7000")
    customer, _token = login_code_verify(phone="13700137000", code=_code(outbox))
    assert customer == existing and Customer.objects.filter(phone__endswith="13700137000").count() == 1


def test_a_member_takes_a_product_for_points_at_the_till(world, django_capture_on_commit_callbacks):
    from staff.counter import SaleLine, counter_collect, counter_methods, counter_sale_create
    from tests.factories import ProductFactory

    assert "points" in [code for code, _label in counter_methods()]
    member = CustomerFactory(home_region=world.east, points=500)
    gift = ProductFactory(sale_price=D("3.00"))
    from tests.factories import stock_shelf

    stock_shelf(world.east_store, gift, 2)
    order = counter_sale_create(
        actor=world.clerk, site=world.east_store, lines=[SaleLine(product=gift)], customer=member
    )
    from members.paycodes import pay_code_issue

    code, _expires = pay_code_issue(customer=member)  # what the member's app shows
    with django_capture_on_commit_callbacks(execute=True):
        counter_collect(actor=world.clerk, order=order, method="points", reference=code)
    order.refresh_from_db()
    member.refresh_from_db()
    assert order.status == "paid" and member.points == 200  # 3.00 × 100 points
    walk_in = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(product=gift)])
    assert counter_collect(actor=world.clerk, order=walk_in, method="points").payment.status == "failed"
