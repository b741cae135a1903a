"""The QR / online payment providers operators use: Alipay, WeChat Pay (API v3) and Stripe, each
through its maintained SDK from PyPI.

A collection creates the payment at the provider and stays *pending* with the QR code URL (or
payment link) in `Payment.data["qr"]`, shown on the machine's screen or at the till. The provider
then calls `/wallet/notify/<code>/`; the notice is verified as the provider specifies —

- Alipay: RSA2 (SHA256withRSA) over the sorted parameters, with Alipay's public key;
- WeChat Pay v3: RSA-SHA256 over "timestamp\\nnonce\\nbody\\n" with the platform public key (its id
  must match; an unknown serial is refused, never fetched), a timestamp at most 5 minutes old,
  then AES-256-GCM decryption of the resource with the API v3 key;
- Stripe: the signed webhook (`Stripe-Signature`) with its timestamp tolerance —

and only then is the amount checked against the payment and the order paid, exactly once
(`payment_confirm` locks the payment). Credentials come from settings (`PAYMENT_PROVIDERS`);
a provider without credentials is not offered. Fees per method (`PAYMENT_FEE_RATES`, e.g. 0.0038
for 0.38 %) are recorded on the payment.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from orders.payments import PaymentProvider, ProviderResult

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")
WECHAT_MAX_AGE_SECONDS = 300


class InvalidNotice(Exception):
    """A callback that is forged, malformed or does not match the payment: answered 400."""


@dataclass(frozen=True)
class Notice:
    reference: str  # our out_trade_no: the payment's reference
    amount: Decimal
    paid: bool
    transaction_id: str


def fee_for(code: str, amount: Decimal, region=None) -> Decimal:
    """The fee of `amount` paid by method `code` at the rate operators set for `region` (ADR 16)."""
    from orders.services import payment_fee

    return payment_fee(code, amount, region)


def _config(code: str) -> dict:
    return (getattr(settings, "PAYMENT_PROVIDERS", {}) or {}).get(code) or {}


def out_trade_no(payment) -> str:
    return f"{payment.order.number}P{payment.pk}"


class OnlineProvider(PaymentProvider):
    shows_qr = True
    required: tuple[str, ...] = ()
    # What the provider expects back when a notice was handled (or was a repeat).
    ack_body = "success"
    ack_content_type = "text/plain"

    def available(self) -> bool:
        config = _config(self.code)
        return all(config.get(key) for key in self.required)

    def config(self) -> dict:
        config = _config(self.code)
        missing = [key for key in self.required if not config.get(key)]
        if missing:
            raise RuntimeError(f"{self.code} is not configured: {', '.join(missing)}")
        return config

    def collect(self, *, payment, reference="", data=None):
        trade_no = out_trade_no(payment)
        try:
            qr = self.create(payment=payment, trade_no=trade_no)
        except Exception as error:  # the provider is down or refused: the payment fails, clearly
            logger.warning("%s could not create payment %s: %s", self.code, trade_no, error)
            return ProviderResult(succeeded=False, message=str(_("The payment provider could not be reached.")))
        return ProviderResult(succeeded=False, pending=True, reference=trade_no, data={"qr": qr})

    def create(self, *, payment, trade_no: str) -> str:
        raise NotImplementedError

    def parse_notice(self, request) -> Notice:
        raise NotImplementedError


# --- Alipay ----------------------------------------------------------------------------------
class AlipayProvider(OnlineProvider):
    code = "alipay"
    label = _("Alipay")
    required = ("app_id", "app_private_key", "alipay_public_key")

    def client(self):
        from alipay import AliPay

        config = self.config()
        return AliPay(
            appid=config["app_id"],
            app_notify_url=config.get("notify_url") or f"{settings.SITE_URL}/wallet/notify/alipay/",
            app_private_key_string=config["app_private_key"],
            alipay_public_key_string=config["alipay_public_key"],
            sign_type="RSA2",
            debug=bool(config.get("sandbox")),
        )

    def create(self, *, payment, trade_no):
        result = self.client().api_alipay_trade_precreate(
            subject=payment.order.number, out_trade_no=trade_no, total_amount=str(payment.amount)
        )
        if result.get("code") != "10000" or not result.get("qr_code"):
            raise RuntimeError(result.get("sub_msg") or result.get("msg") or "precreate failed")
        return result["qr_code"]

    def parse_notice(self, request) -> Notice:
        data = request.POST.dict()
        signature = data.pop("sign", None)
        data.pop("sign_type", None)
        if not signature:
            raise InvalidNotice("no signature")
        try:
            verified = self.client().verify(data, signature)
        except Exception as error:
            raise InvalidNotice(f"signature check failed: {error}") from None
        if not verified:
            raise InvalidNotice("bad signature")
        if data.get("app_id") != self.config()["app_id"]:
            raise InvalidNotice("notice for another app")
        try:
            amount = Decimal(data["total_amount"])
        except Exception:
            raise InvalidNotice("no amount") from None
        return Notice(
            reference=data.get("out_trade_no", ""),
            amount=amount,
            paid=data.get("trade_status") in ("TRADE_SUCCESS", "TRADE_FINISHED"),
            transaction_id=data.get("trade_no", ""),
        )

    def refund(self, *, refund):
        result = self.client().api_alipay_trade_refund(
            refund_amount=str(refund.amount), out_trade_no=refund.payment.reference, out_request_no=f"R{refund.pk}"
        )
        if result.get("code") == "10000":
            return ProviderResult(succeeded=True, reference=result.get("trade_no", f"R{refund.pk}"))
        return ProviderResult(succeeded=False, message=result.get("sub_msg") or result.get("msg") or "refused")


# --- WeChat Pay v3 ---------------------------------------------------------------------------
class WeChatPayProvider(OnlineProvider):
    code = "wechat"
    label = _("WeChat Pay")
    required = ("mchid", "appid", "private_key", "cert_serial_no", "apiv3_key", "public_key", "public_key_id")
    ack_body = json.dumps({"code": "SUCCESS", "message": "OK"})
    ack_content_type = "application/json"

    def client(self):
        from wechatpayv3 import WeChatPay, WeChatPayType

        config = self.config()
        return WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=config["mchid"],
            private_key=config["private_key"],
            cert_serial_no=config["cert_serial_no"],
            appid=config["appid"],
            apiv3_key=config["apiv3_key"],
            notify_url=config.get("notify_url") or f"{settings.SITE_URL}/wallet/notify/wechat/",
            public_key=config["public_key"],
            public_key_id=config["public_key_id"],
            timeout=(5, 10),
        )

    def create(self, *, payment, trade_no):
        code, message = self.client().pay(
            description=payment.order.number[:127],
            out_trade_no=trade_no,
            amount={"total": int(payment.amount * 100), "currency": payment.order.currency},
        )
        body = json.loads(message)
        if code not in (200, 201) or not body.get("code_url"):
            raise RuntimeError(body.get("message") or f"HTTP {code}")
        return body["code_url"]

    def parse_notice(self, request) -> Notice:
        headers = {key: value for key, value in request.headers.items()}
        lower = {key.lower(): value for key, value in headers.items()}
        if lower.get("wechatpay-serial") != self.config()["public_key_id"]:
            raise InvalidNotice("unknown platform key serial")  # never fetch certificates for a stranger
        try:
            stamp = int(lower.get("wechatpay-timestamp", ""))
        except ValueError:
            raise InvalidNotice("no timestamp") from None
        if abs(time.time() - stamp) > WECHAT_MAX_AGE_SECONDS:
            raise InvalidNotice("stale timestamp")
        try:
            result = self.client().callback({k.lower(): v for k, v in headers.items()}, request.body.decode())
        except Exception as error:
            raise InvalidNotice(f"verification failed: {error}") from None
        if not result:
            raise InvalidNotice("bad signature or resource")
        resource = result.get("resource") or {}
        if resource.get("mchid") != self.config()["mchid"]:
            raise InvalidNotice("notice for another merchant")
        try:
            amount = (Decimal(resource["amount"]["total"]) / 100).quantize(CENT)
        except Exception:
            raise InvalidNotice("no amount") from None
        return Notice(
            reference=resource.get("out_trade_no", ""),
            amount=amount,
            paid=resource.get("trade_state") == "SUCCESS",
            transaction_id=resource.get("transaction_id", ""),
        )

    def refund(self, *, refund):
        payment = refund.payment
        code, message = self.client().refund(
            out_refund_no=f"R{refund.pk}",
            amount={"refund": int(refund.amount * 100), "total": int(payment.amount * 100), "currency": "CNY"},
            out_trade_no=payment.reference,
        )
        body = json.loads(message)
        if code in (200, 201) and body.get("status") in ("SUCCESS", "PROCESSING"):
            return ProviderResult(succeeded=True, reference=body.get("refund_id", f"R{refund.pk}"))
        return ProviderResult(succeeded=False, message=body.get("message") or f"HTTP {code}")


# --- Stripe ----------------------------------------------------------------------------------
class StripeProvider(OnlineProvider):
    code = "stripe"
    label = _("Stripe")
    required = ("secret_key", "webhook_secret")
    ack_body = "{}"
    ack_content_type = "application/json"
    http_client = None  # tests put a local HTTP client here; nothing reaches the internet

    def client(self):
        import stripe

        return stripe.StripeClient(self.config()["secret_key"], http_client=self.http_client)

    def create(self, *, payment, trade_no):
        currency = payment.order.currency.lower()
        session = self.client().v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "client_reference_id": trade_no,
                "success_url": f"{settings.SITE_URL}/",
                "line_items": [
                    {
                        "quantity": 1,
                        "price_data": {
                            "currency": currency,
                            "unit_amount": int(payment.amount * 100),
                            "product_data": {"name": payment.order.number},
                        },
                    }
                ],
                "metadata": {"reference": trade_no},
            }
        )
        return session.url

    def parse_notice(self, request) -> Notice:
        import stripe

        try:
            event = stripe.Webhook.construct_event(
                request.body.decode(),
                request.headers.get("Stripe-Signature", ""),
                self.config()["webhook_secret"],
                tolerance=int(self.config().get("tolerance", 300)),
            )
        except (ValueError, stripe.SignatureVerificationError) as error:
            raise InvalidNotice(f"signature check failed: {error}") from None
        event = event.to_dict()
        session = event["data"]["object"]
        if event["type"] not in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            return Notice(
                reference=session.get("client_reference_id") or "", amount=Decimal(0), paid=False, transaction_id=""
            )
        try:
            amount = (Decimal(session["amount_total"]) / 100).quantize(CENT)
        except Exception:
            raise InvalidNotice("no amount") from None
        return Notice(
            reference=session.get("client_reference_id") or "",
            amount=amount,
            paid=session.get("payment_status") == "paid",
            transaction_id=str(session.get("payment_intent") or session.get("id") or ""),
        )

    def refund(self, *, refund):
        intent = refund.payment.data.get("transaction_id") or refund.payment.reference
        result = self.client().v1.refunds.create(
            params={"payment_intent": intent, "amount": int(refund.amount * 100)},
            options={"idempotency_key": f"refund-{refund.pk}"},
        )
        if result.status in ("succeeded", "pending"):
            return ProviderResult(succeeded=True, reference=result.id)
        return ProviderResult(succeeded=False, message=str(result.status))


ONLINE_PROVIDERS = (AlipayProvider(), WeChatPayProvider(), StripeProvider())


def notice_handle(*, code: str, request):
    """Verify a provider's notice and pay the order once. Returns the payment, or None for a
    notice that needs no action (not paid yet). Raises InvalidNotice for anything suspicious."""
    from django.core.exceptions import ValidationError

    from orders.models import Payment
    from orders.services import Actor, payment_confirm

    provider = next((p for p in ONLINE_PROVIDERS if p.code == code), None)
    if provider is None or not provider.available():
        raise InvalidNotice("unknown provider")
    try:
        notice = provider.parse_notice(request)
    except InvalidNotice:
        raise
    except Exception as error:  # malformed in a way nobody foresaw: still a 400, never a 500
        raise InvalidNotice(f"malformed notice: {error!r}") from None
    payment = Payment.objects.select_related("order").filter(provider=code, reference=notice.reference).first()
    if payment is None:
        raise InvalidNotice(f"no payment {notice.reference!r}")
    if not notice.paid:
        return None
    if notice.amount != payment.amount:
        raise InvalidNotice(f"amount {notice.amount} does not match the payment's {payment.amount}")
    try:
        confirmed = payment_confirm(
            payment=payment,
            actor=Actor.system(f"{code} notify"),
            reference=notice.reference,
            fee=fee_for(code, payment.amount, payment.order.region_id),
        )
    except ValidationError as error:
        raise InvalidNotice(" ".join(error.messages)) from None
    if notice.transaction_id and confirmed.data.get("transaction_id") != notice.transaction_id:
        Payment.objects.filter(pk=confirmed.pk).update(data={**confirmed.data, "transaction_id": notice.transaction_id})
    return confirmed
