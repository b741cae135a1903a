"""The embedded default's email backend: messages go to the console's outbox page (platform
administrators only) instead of a mail server."""

from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        from core.models import OutboxMessage

        sent = 0
        for message in email_messages:
            body = message.body
            for alternative in getattr(message, "alternatives", []) or []:
                if getattr(alternative, "mimetype", None) == "text/plain" or (
                    isinstance(alternative, tuple) and alternative[1] == "text/plain"
                ):
                    body = alternative[0] if isinstance(alternative, tuple) else alternative.content
            for address in message.recipients():
                OutboxMessage.objects.create(
                    channel=OutboxMessage.Channel.EMAIL, address=address, subject=message.subject[:200], body=body
                )
                sent += 1
        return sent
