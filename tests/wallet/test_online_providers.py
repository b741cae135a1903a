"""Alipay, WeChat Pay v3 and Stripe with keys generated here: creating the payment (the SDK's
request answered locally), the notify callback verified as each provider specifies, an order
paid exactly once however often (and however concurrently) the notice arrives, and forged or
altered notices refused with 400 and nothing changed. Nothing reaches the internet."""

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import connections
from django.test import Client

from orders.models import Order, Payment
from orders.services import payment_collect
from tests.factories import SiteFactory, make_order
from wallet.online import StripeProvider

D = Decimal
PROVIDERS = ["alipay", "wechat", "stripe"]


def _keypair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return key, private, public


def _sign(key, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


class Keys:
    def __init__(self):
        _app_key, self.alipay_app_private, _app_public = _keypair()
        self.alipay_platform, _private, self.alipay_public = _keypair()
        _merchant_key, self.wechat_merchant_private, _merchant_public = _keypair()
        self.wechat_platform, _private, self.wechat_public = _keypair()
        self.apiv3 = secrets.token_hex(16)  # 32 characters
        self.stripe_secret = "whsec_" + secrets.token_hex(16)

    def settings(self):
        return {
            "alipay": {
                "app_id": "2021000000000001",
                "app_private_key": self.alipay_app_private,
                "alipay_public_key": self.alipay_public,
            },
            "wechat": {
                "mchid": "1900000001",
                "appid": "wx0000000000000001",
                "private_key": self.wechat_merchant_private,
                "cert_serial_no": "ABC123",
                "apiv3_key": self.apiv3,
                "public_key": self.wechat_public,
                "public_key_id": "PUB_KEY_ID_0001",
            },
            "stripe": {"secret_key": "sk_test_local", "webhook_secret": self.stripe_secret},
        }


class LocalStripe:
    """Answers the Stripe SDK's HTTP requests here (a Checkout Session with its URL)."""

    def __init__(self):
        import stripe

        class Client(stripe.HTTPClient):
            name = "local"

            def request(self, method, url, headers, post_data=None, *, _usage=None):
                if "/v1/refunds" in url:
                    body = {"id": "re_local_1", "object": "refund", "status": "succeeded"}
                else:
                    body = {
                        "id": "cs_test_1",
                        "object": "checkout.session",
                        "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                    }
                return json.dumps(body), 200, {"request-id": "req_local"}

            def close(self):
                pass

        self.client = Client()


@pytest.fixture
def keys(settings, monkeypatch):
    keys = Keys()
    settings.PAYMENT_PROVIDERS = keys.settings()
    settings.PAYMENT_FEE_RATES = {"alipay": "0.006", "wechat": "0.006", "stripe": "0.029"}
    monkeypatch.setattr(
        "alipay.AliPay.api_alipay_trade_precreate",
        lambda self, subject, out_trade_no, total_amount, **kw: {
            "code": "10000",
            "qr_code": f"https://qr.alipay.com/{out_trade_no}",
        },
    )
    monkeypatch.setattr(
        "wechatpayv3.WeChatPay.pay",
        lambda self, **kw: (200, json.dumps({"code_url": f"weixin://wxpay/bizpayurl?pr={kw['out_trade_no']}"})),
    )
    monkeypatch.setattr(StripeProvider, "http_client", LocalStripe().client)
    return keys


def _pending(code, amount="25.00"):
    order = make_order(site=SiteFactory(), total=D(amount))
    payment = payment_collect(order=order, provider=code, amount=D(amount), actor=None)
    assert payment.status == "pending" and payment.data["qr"]
    return payment


# --- Building notices as each provider would -------------------------------------------------
def _alipay_notice(keys, payment, *, amount=None, tamper=False):
    params = {
        "app_id": "2021000000000001",
        "out_trade_no": payment.reference,
        "trade_no": "2026112422001400000000000001",
        "total_amount": str(amount or payment.amount),
        "trade_status": "TRADE_SUCCESS",
        "notify_time": "2026-11-24 12:00:00",
        "charset": "utf-8",
    }
    unsigned = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["sign"] = _sign(keys.alipay_platform, unsigned)
    params["sign_type"] = "RSA2"
    if tamper:
        params["total_amount"] = "0.01"  # changed after signing
    return {"data": params}


def _wechat_notice(keys, payment, *, amount=None, tamper=False):
    resource = {
        "mchid": "1900000001",
        "appid": "wx0000000000000001",
        "out_trade_no": payment.reference,
        "transaction_id": "4200000000202611240000000001",
        "trade_state": "SUCCESS",
        "amount": {"total": int((amount or payment.amount) * 100), "currency": "CNY"},
    }
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(keys.apiv3.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), b"transaction")
    body = json.dumps(
        {
            "id": "EV-1",
            "event_type": "TRANSACTION.SUCCESS",
            "resource_type": "encrypt-resource",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "nonce": nonce,
                "associated_data": "transaction",
                "original_type": "transaction",
            },
        }
    )
    stamp, header_nonce = str(int(time.time())), secrets.token_hex(8)
    signature = _sign(keys.wechat_platform, f"{stamp}\n{header_nonce}\n{body}\n")
    if tamper:
        body = body.replace("EV-1", "EV-2")
    headers = {
        "Wechatpay-Timestamp": stamp,
        "Wechatpay-Nonce": header_nonce,
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": "PUB_KEY_ID_0001",
        "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return {"data": body, "content_type": "application/json", "headers": headers}


def _stripe_notice(keys, payment, *, amount=None, tamper=False):
    event = {
        "id": "evt_1",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_1",
                "object": "checkout.session",
                "client_reference_id": payment.reference,
                "amount_total": int((amount or payment.amount) * 100),
                "payment_status": "paid",
                "payment_intent": "pi_local_1",
            }
        },
    }
    payload = json.dumps(event)
    stamp = int(time.time())
    signature = hmac.new(keys.stripe_secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    if tamper:
        signature = signature[:-2] + ("00" if signature[-2:] != "00" else "11")
    return {
        "data": payload,
        "content_type": "application/json",
        "headers": {"Stripe-Signature": f"t={stamp},v1={signature}"},
    }


NOTICES = {"alipay": _alipay_notice, "wechat": _wechat_notice, "stripe": _stripe_notice}


def _post(client, code, notice):
    kwargs = {"headers": notice.get("headers", {})}
    if "content_type" in notice:
        kwargs["content_type"] = notice["content_type"]
    return client.post(f"/wallet/notify/{code}/", notice["data"], **kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("code", PROVIDERS)
def test_a_verified_notice_pays_the_order_once_with_its_fee(code, keys, client):
    payment = _pending(code)
    notice = NOTICES[code](keys, payment)
    for _ in range(5):  # the provider retries until it sees its acknowledgement
        response = _post(client, code, notice)
        assert response.status_code == 200, response.content
    payment.refresh_from_db()
    order = Order.objects.get(pk=payment.order_id)
    assert payment.status == "succeeded" and order.status == "paid" and order.paid_amount == D("25.00")
    assert payment.fee == {"alipay": D("0.15"), "wechat": D("0.15"), "stripe": D("0.73")}[code]
    assert order.events.filter(action="payment").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("code", PROVIDERS)
def test_forged_or_altered_notices_answer_400_and_change_nothing(code, keys, client, caplog):
    payment = _pending(code)
    forged = NOTICES[code](keys, payment, tamper=True)
    assert _post(client, code, forged).status_code == 400
    other_amount = NOTICES[code](keys, payment, amount=D("24.00"))  # validly signed, wrong amount
    assert _post(client, code, other_amount).status_code == 400
    assert _post(client, code, {"data": "{}", "content_type": "application/json"}).status_code == 400
    payment.refresh_from_db()
    assert payment.status == "pending" and Order.objects.get(pk=payment.order_id).paid_amount == 0
    assert "Refused" in caplog.text


@pytest.mark.django_db
def test_unknown_provider_and_unknown_payment_are_refused(keys, client):
    assert client.post("/wallet/notify/paypal/", {}).status_code == 400
    payment = _pending("stripe")
    Payment.objects.filter(pk=payment.pk).update(reference="someone-else")
    assert _post(client, "stripe", _stripe_notice(keys, payment)).status_code == 400


@pytest.mark.django_db
def test_wechat_refuses_an_unknown_key_serial_and_a_stale_timestamp(keys, client):
    payment = _pending("wechat")
    notice = _wechat_notice(keys, payment)
    notice["headers"]["Wechatpay-Serial"] = "SOMEONE-ELSE"
    assert _post(client, "wechat", notice).status_code == 400
    notice = _wechat_notice(keys, payment)
    notice["headers"]["Wechatpay-Timestamp"] = str(int(time.time()) - 3600)
    assert _post(client, "wechat", notice).status_code == 400
    payment.refresh_from_db()
    assert payment.status == "pending"


@pytest.mark.django_db
def test_unconfigured_providers_are_not_offered(settings):
    from orders.payments import provider_choices

    settings.PAYMENT_PROVIDERS = {}
    codes = [code for code, _label in provider_choices()]
    assert "cash" in codes and "alipay" not in codes and "stripe" not in codes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("code", PROVIDERS)
def test_the_same_notice_five_times_concurrently_credits_once(code, keys):
    payment = _pending(code)
    notice = NOTICES[code](keys, payment)
    barrier, statuses = threading.Barrier(5), []

    def deliver():
        try:
            barrier.wait()
            statuses.append(_post(Client(), code, notice).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 5
    order = Order.objects.get(pk=payment.order_id)
    assert order.paid_amount == D("25.00") and order.status == "paid"
    assert order.events.filter(action="payment").count() == 1
    assert Payment.objects.filter(order=order, status="succeeded").count() == 1


@pytest.mark.django_db
def test_the_till_shows_the_qr_code_and_the_notice_pays_the_order(keys, world, client):
    from staff.counter import SaleLine, counter_collect, counter_sale_create

    order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "Tea", D("25.00"))])
    collection = counter_collect(actor=world.clerk, order=order, method="wechat")
    assert collection.payment.status == "pending"
    client.force_login(world.clerk)
    page = client.get(f"/staff/cashier/orders/{order.pk}/").content.decode()
    assert f'data-waiting="{collection.payment.pk}"' in page and "<svg" in page
    assert _post(Client(), "wechat", _wechat_notice(keys, collection.payment)).status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.django_db
def test_a_customer_recharges_from_the_app_and_the_notice_credits_the_wallet(
    keys, api_client, world, django_capture_on_commit_callbacks
):
    import hashlib

    from members.models import CustomerToken
    from tests.factories import CustomerFactory
    from wallet.models import BonusTier
    from wallet.services import Balances, balances

    BonusTier.objects.create(region=world.east, min_amount=D("100"), bonus=D("10"))
    customer = CustomerFactory(home_region=world.east)
    key = secrets.token_urlsafe(32)
    CustomerToken.objects.create(customer=customer, key_hash=hashlib.sha256(key.encode()).hexdigest())
    api_client.credentials(HTTP_AUTHORIZATION=f"Customer {key}")
    started = api_client.post("/api/v1/customer/recharge/", {"amount": "100.00", "method": "stripe"}, format="json")
    assert started.status_code == 201, started.content
    assert started.json()["bonus"] == "10.00" and started.json()["qr"].startswith("https://checkout.stripe.com/")
    payment = Payment.objects.get(pk=started.json()["payment"])
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(Client(), "stripe", _stripe_notice(keys, payment)).status_code == 200
    assert balances(customer=customer) == Balances(paid=D("100.00"), bonus=D("10.00"), held=D("0.00"))
    refused = api_client.post("/api/v1/customer/recharge/", {"amount": "100.00", "method": "cash"}, format="json")
    assert refused.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("code", PROVIDERS)
def test_refunds_go_back_through_the_same_provider(code, keys, client, monkeypatch):
    from orders.services import refund_create

    monkeypatch.setattr(
        "alipay.AliPay.api_alipay_trade_refund",
        lambda self, **kw: {"code": "10000", "trade_no": "2026112422001400000000000001"},
    )
    monkeypatch.setattr(
        "wechatpayv3.WeChatPay.refund",
        lambda self, **kw: (200, json.dumps({"status": "PROCESSING", "refund_id": "50000000000000000000000001"})),
    )
    payment = _pending(code)
    assert _post(client, code, NOTICES[code](keys, payment)).status_code == 200
    refund = refund_create(order=payment.order, amount=D("10.00"), actor=None, reason="customer changed their mind")
    assert refund.status == "succeeded" and refund.reference
    order = Order.objects.get(pk=payment.order_id)
    assert order.refunded_amount == D("10.00")
