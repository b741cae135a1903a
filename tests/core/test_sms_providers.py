"""Alibaba Cloud SMS and Tencent Cloud SMS through their own SDKs, with the SDKs' HTTP requests
answered by a server on this machine (nothing reaches the internet): the approved template, the
signature and the parameters go out signed; a refusal raises so the delivery task retries."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from core.sms import AlibabaSMSProvider, SMSNotSent, TencentSMSProvider


class Provider(BaseHTTPRequestHandler):
    answer: dict = {}
    seen: list = []

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        Provider.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        payload = json.dumps(Provider.answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def local_provider(settings):
    Provider.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"127.0.0.1:{server.server_address[1]}"
    settings.SMS_PROVIDERS = {
        "alibaba": {
            "access_key_id": "LTAI5tLocalKeyId",
            "access_key_secret": "local-secret",
            "sign_name": "无人零售",
            "endpoint": endpoint,
            "protocol": "http",
        },
        "tencent": {
            "secret_id": "AKIDlocal",
            "secret_key": "local-secret",
            "sdk_app_id": "1400000001",
            "sign_name": "无人零售",
            "endpoint": endpoint,
            "protocol": "http",
        },
    }
    settings.SMS_TEMPLATES = {
        "pickup_code": {"alibaba": "SMS_4651234", "tencent": "1234567", "params": ["code", "place"]}
    }
    yield Provider
    server.shutdown()


def _fields(request) -> dict:
    query = parse_qs(urlparse(request["path"]).query)
    query.update(parse_qs(request["body"]))
    return {key: values[0] for key, values in query.items()}


def test_alibaba_sends_the_approved_template_with_its_parameters(local_provider):
    local_provider.answer = {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0", "RequestId": "F6A4"}
    AlibabaSMSProvider().send(
        phone="+8613800138000", text="ignored", template="pickup_code", params={"code": "12345678", "place": "A-3"}
    )
    [request] = local_provider.seen
    fields = _fields(request)
    assert request["headers"]["x-acs-action"] == "SendSms" and fields["PhoneNumbers"] == "13800138000"
    assert fields["TemplateCode"] == "SMS_4651234" and fields["SignName"] == "无人零售"
    assert json.loads(fields["TemplateParam"]) == {"code": "12345678", "place": "A-3"}
    assert request["headers"]["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=LTAI5tLocalKeyId,")


def test_alibaba_refusal_raises_for_a_retry(local_provider):
    local_provider.answer = {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控", "RequestId": "F6A5"}
    with pytest.raises(SMSNotSent, match="BUSINESS_LIMIT_CONTROL"):
        AlibabaSMSProvider().send(phone="+8613800138000", text="", template="pickup_code", params={"code": "1"})


def test_tencent_sends_the_approved_template_with_its_parameters(local_provider):
    local_provider.answer = {
        "Response": {
            "SendStatusSet": [
                {
                    "SerialNo": "5000:1045710669157053657849499619",
                    "PhoneNumber": "+8613800138000",
                    "Fee": 1,
                    "SessionContext": "",
                    "Code": "Ok",
                    "Message": "send success",
                    "IsoCode": "CN",
                }
            ],
            "RequestId": "a0aabda6-cf91-4f3e-a81f-9198114a2279",
        }
    }
    TencentSMSProvider().send(
        phone="+8613800138000", text="", template="pickup_code", params={"code": "12345678", "place": "A-3"}
    )
    [request] = local_provider.seen
    body = json.loads(request["body"])
    assert body["PhoneNumberSet"] == ["+8613800138000"] and body["TemplateId"] == "1234567"
    assert body["TemplateParamSet"] == ["12345678", "A-3"] and body["SmsSdkAppId"] == "1400000001"
    assert request["headers"]["X-TC-Action"] == "SendSms"
    assert request["headers"]["Authorization"].startswith("TC3-HMAC-SHA256 Credential=AKIDlocal/")


def test_tencent_refusal_raises_for_a_retry(local_provider):
    local_provider.answer = {
        "Response": {
            "SendStatusSet": [
                {
                    "PhoneNumber": "+8613800138000",
                    "Code": "LimitExceeded.PhoneNumberDailyLimit",
                    "Message": "daily limit",
                }
            ],
            "RequestId": "b1",
        }
    }
    with pytest.raises(SMSNotSent, match="PhoneNumberDailyLimit"):
        TencentSMSProvider().send(phone="13800138000", text="", template="pickup_code", params={})


def test_a_notification_without_a_configured_template_is_not_sent_blind(local_provider):
    with pytest.raises(RuntimeError, match="SMS_TEMPLATES"):
        AlibabaSMSProvider().send(phone="+8613800138000", text="hello", template="unknown_template", params={})
    assert local_provider.seen == []


@pytest.mark.django_db
def test_a_customer_signs_in_with_the_code_tencent_delivered(
    local_provider, settings, django_capture_on_commit_callbacks
):
    """Through the door: the customer asks for a code over HTTP, the delivery task hands the
    template's parameters (the code included) to Tencent's SDK, the stored copy keeps it masked,
    and the code that reached the phone signs the customer in."""
    from rest_framework.test import APIClient

    from core.models import Notification

    settings.SMS_PROVIDER = "core.sms.TencentSMSProvider"
    settings.SMS_TEMPLATES = {"customer_login_code": {"tencent": "2233445", "params": ["code"]}}
    local_provider.answer = {
        "Response": {"SendStatusSet": [{"PhoneNumber": "+8613800138000", "Code": "Ok", "Message": "send success"}]}
    }
    app = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        asked = app.post("/api/v1/customer/sign-in/", {"phone": "13800138000"}, format="json")
    assert asked.status_code == 202
    [request] = local_provider.seen
    body = json.loads(request["body"])
    assert body["TemplateId"] == "2233445" and body["PhoneNumberSet"] == ["+8613800138000"]
    [code] = body["TemplateParamSet"]
    assert len(code) == 6 and code.isdigit()
    stored = Notification.objects.get(template="customer_login_code")
    assert stored.status == "sent" and code not in stored.body
    verified = app.post("/api/v1/customer/sign-in/verify/", {"phone": "13800138000", "code": code}, format="json")
    assert verified.status_code == 201 and verified.json()["token"]
