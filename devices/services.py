"""Writes for devices."""

from django.db import transaction

from core.services import audit_record
from devices.models import Device


@transaction.atomic
def device_register(*, actor, **fields) -> Device:
    device = Device(**fields)
    device.full_clean()
    device.save()
    audit_record(actor=actor, action="device.register", obj=device, region=device.site.region)
    return device
