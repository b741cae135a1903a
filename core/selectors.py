"""Reads for core, already scoped to the caller."""

from django.contrib.contenttypes.models import ContentType

from core.models import Notification


def notification_list_for(*, recipient):
    return Notification.objects.filter(
        recipient_type=ContentType.objects.get_for_model(recipient),
        recipient_id=recipient.pk,
        channel=Notification.Channel.IN_APP,
    )
