"""SMS providers. The deployment picks one with settings.SMS_PROVIDER (a dotted class path)."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SMSProvider:
    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        """Send `text` to `phone`. Providers that send only approved templates (China's carriers
        require them) use `template` (our notification template's name) and `params` instead."""
        raise NotImplementedError


class LoggingSMSProvider(SMSProvider):
    """Writes that a message was sent to the log; the default for demos and tests.

    Never the text: messages carry pickup codes and initial passwords, which must not end up in
    any log at any level.
    """

    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        logger.info(
            "SMS to %s queued to the logging provider (%d characters)", phone[-4:].rjust(len(phone), "*"), len(text)
        )


class OutboxSMSProvider(SMSProvider):
    """Keeps messages in memory; used by tests to read what would have been sent."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        self.outbox.append((phone, text))


class ConsoleOutboxSMSProvider(SMSProvider):
    """The embedded default: the message is kept in the console's outbox page (platform
    administrators only) instead of going to a provider."""

    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        from core.models import OutboxMessage

        OutboxMessage.objects.create(channel=OutboxMessage.Channel.SMS, address=phone, body=text, template=template)


class FailingSMSProvider(SMSProvider):
    """Always fails; used by tests to prove a failed send is retried and never blocks an order."""

    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        raise ConnectionError("SMS gateway unreachable")


class SMSNotSent(Exception):
    """The provider refused the message (its code and message say why); the send is retried."""


class TemplateSMSProvider(SMSProvider):
    """Mainland China's SMS providers send only templates approved in their console, under a
    registered signature, with the template's parameters. `SMS_TEMPLATES` maps each of our
    notification templates to the provider's template id and the parameters it takes, in order:

        {"pickup_code": {"alibaba": "SMS_4651234", "tencent": "1234567", "params": ["code", "place"]}}

    Credentials and the signature come from `SMS_PROVIDERS[<code>]`."""

    code = ""

    def config(self) -> dict:
        config = (getattr(settings, "SMS_PROVIDERS", {}) or {}).get(self.code) or {}
        missing = [key for key in self.required if not config.get(key)]
        if missing:
            raise RuntimeError(f"SMS provider {self.code} is not configured: {', '.join(missing)}")
        return config

    def template(self, template: str) -> tuple[str, list[str]]:
        entry = (getattr(settings, "SMS_TEMPLATES", {}) or {}).get(template) or {}
        template_id = entry.get(self.code)
        if not template_id:
            raise RuntimeError(f"No {self.code} SMS template is configured for {template!r} (SMS_TEMPLATES)")
        return str(template_id), list(entry.get("params", []))


class AlibabaSMSProvider(TemplateSMSProvider):
    """Alibaba Cloud SMS (Dysmsapi 2017-05-25) through its SDK."""

    code = "alibaba"
    required = ("access_key_id", "access_key_secret", "sign_name")

    def client(self):
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import models as openapi

        config = self.config()
        return Client(
            openapi.Config(
                access_key_id=config["access_key_id"],
                access_key_secret=config["access_key_secret"],
                endpoint=config.get("endpoint") or "dysmsapi.aliyuncs.com",
                protocol=config.get("protocol") or "https",
                read_timeout=10000,
                connect_timeout=5000,
            )
        )

    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        import json

        from alibabacloud_dysmsapi20170525 import models as dysms

        template_id, names = self.template(template)
        request = dysms.SendSmsRequest(
            phone_numbers=phone.removeprefix("+86").lstrip("+"),
            sign_name=self.config()["sign_name"],
            template_code=template_id,
            template_param=json.dumps({name: str((params or {}).get(name, "")) for name in names}, ensure_ascii=False),
        )
        body = self.client().send_sms(request).body
        if body.code != "OK":
            raise SMSNotSent(f"Alibaba Cloud SMS refused the message: {body.code} {body.message}")


class TencentSMSProvider(TemplateSMSProvider):
    """Tencent Cloud SMS (API 2021-01-11) through its SDK."""

    code = "tencent"
    required = ("secret_id", "secret_key", "sdk_app_id", "sign_name")

    def client(self):
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        config = self.config()
        http = HttpProfile(
            protocol=config.get("protocol") or "https",
            endpoint=config.get("endpoint") or "sms.tencentcloudapi.com",
            reqTimeout=10,
        )
        return sms_client.SmsClient(
            credential.Credential(config["secret_id"], config["secret_key"]),
            config.get("region") or "ap-guangzhou",
            ClientProfile(httpProfile=http),
        )

    def send(self, *, phone: str, text: str, template: str = "", params: dict | None = None) -> None:
        from tencentcloud.sms.v20210111 import models

        template_id, names = self.template(template)
        config = self.config()
        request = models.SendSmsRequest()
        request.SmsSdkAppId = str(config["sdk_app_id"])
        request.SignName = config["sign_name"]
        request.TemplateId = template_id
        request.TemplateParamSet = [str((params or {}).get(name, "")) for name in names]
        request.PhoneNumberSet = [phone if phone.startswith("+") else f"+86{phone}"]
        response = self.client().SendSms(request)
        status = (response.SendStatusSet or [None])[0]
        if status is None or status.Code != "Ok":
            detail = f"{status.Code} {status.Message}" if status is not None else "no status"
            raise SMSNotSent(f"Tencent Cloud SMS refused the message: {detail}")


def get_sms_provider() -> SMSProvider:
    return import_string(settings.SMS_PROVIDER)()
