"""SMS providers. The deployment picks one with settings.SMS_PROVIDER (a dotted class path)."""

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SMSProvider:
    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class LoggingSMSProvider(SMSProvider):
    """Writes that a message was sent to the log; the default for demos and tests.

    Never the text: messages carry pickup codes and initial passwords, which must not end up in
    any log at any level.
    """

    def send(self, *, phone: str, text: str) -> None:
        logger.info(
            "SMS to %s queued to the logging provider (%d characters)", phone[-4:].rjust(len(phone), "*"), len(text)
        )


class OutboxSMSProvider(SMSProvider):
    """Keeps messages in memory; used by tests to read what would have been sent."""

    outbox: list[tuple[str, str]] = []

    def send(self, *, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


class FailingSMSProvider(SMSProvider):
    """Always fails; used by tests to prove a failed send is retried and never blocks an order."""

    def send(self, *, phone: str, text: str) -> None:
        raise ConnectionError("SMS gateway unreachable")


def get_sms_provider() -> SMSProvider:
    return import_string(settings.SMS_PROVIDER)()
