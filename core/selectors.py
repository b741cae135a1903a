"""Reads for core, already scoped to the caller."""

from django.contrib.contenttypes.models import ContentType

from core.models import Notification, Region, Site


def region_list(*, user, action: str = "view"):
    return Region.objects.restrict(user, action)


def site_list(*, user, action: str = "view", filters: dict | None = None):
    return Site.objects.restrict(user, action).select_related("region").filter(**(filters or {}))


def notification_list_for(*, recipient):
    return Notification.objects.filter(
        recipient_type=ContentType.objects.get_for_model(recipient),
        recipient_id=recipient.pk,
        channel=Notification.Channel.IN_APP,
    )
