"""Demo rentals: a power-bank rate plan per city and twelve power banks in each rental station."""

from decimal import Decimal

from devices.models import Device
from leasing.models import Asset, RatePlan


def seed(ctx):
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
