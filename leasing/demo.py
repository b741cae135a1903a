"""Demo rentals: a power-bank rate plan per city and twelve power banks in each rental station."""

from decimal import Decimal

from devices.models import Device
from leasing.models import Asset, RatePlan


def _plans(ctx):
    for region in ctx["regions"].values():
        RatePlan.objects.create(
            name="Power bank",
            asset_kind="powerbank",
            region=region,
            unit_minutes=60,
            unit_price=Decimal("3.00"),
            free_minutes=5,
            daily_cap=Decimal("30.00"),
            max_total=Decimal("99.00"),
            deposit=Decimal("99.00"),
        )
    for station in [d for d in ctx["devices"] if d.kind == Device.Kind.RENTAL]:
        Asset.objects.bulk_create(
            Asset(
                serial=f"PB-{station.pk:03d}-{slot:02d}",
                kind="powerbank",
                station=station,
                slot=str(slot),
                site=station.site,
            )
            for slot in range(1, 13)
        )


def seed(ctx):
    _plans(ctx)
    _rentals(ctx)


def _rentals(ctx):
    """Power banks rented by demo members: one out right now, one returned at another station and
    paid from its deposit, one whose station could not eject it."""
    import datetime

    from django.utils import timezone

    from devices.models import DeviceCommand
    from devices.services import command_acknowledge, command_report, device_event_record
    from leasing.services import lease_start_at_station
    from wallet.services import recharge_credit

    # The demo store's station first: its manager and clerk see a rental out and one that failed.
    stations = sorted(
        (d for d in ctx["devices"] if d.kind == Device.Kind.RENTAL), key=lambda d: d.site.code != "sh-store-1"
    )
    members = ctx["customers"][4:7]
    if len(stations) < 2 or len(members) < 3:
        return
    for member in members:
        recharge_credit(customer=member, amount=Decimal("200.00"), provider="cash", key=f"demo-rent-top-up:{member.pk}")
    for member, outcome in zip(members, ["in_use", "returned", "eject_failed"], strict=True):
        station = stations[0] if outcome != "returned" else stations[1]
        lease = lease_start_at_station(customer=member, station=station, kind="powerbank")
        command = DeviceCommand.objects.filter(reference=lease.order.number, kind="eject").first()
        command_acknowledge(command_id=command.command_id, device=station)
        command_report(command_id=command.command_id, device=station, succeeded=outcome != "eject_failed")
        if outcome == "returned":
            Lease = type(lease)
            Lease.objects.filter(pk=lease.pk).update(rented_at=timezone.now() - datetime.timedelta(minutes=95))
            back_at = next(
                (s for s in stations if s.site.region_id == station.site.region_id and s != station), station
            )
            device_event_record(device=back_at, kind="asset_returned", data={"asset": lease.asset.serial, "slot": "12"})
