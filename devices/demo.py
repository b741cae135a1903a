"""About thirty demo devices of the three kinds."""

from decimal import Decimal

from django.utils import timezone

from devices.models import Device

MODELS = {Device.Kind.VENDING: "VM-60", Device.Kind.LOCKER: "KR-CU16 bank", Device.Kind.RENTAL: "PB-12 station"}


def seed(ctx):
    rnd = ctx["random"]
    devices = []
    kinds = [Device.Kind.VENDING] * 18 + [Device.Kind.LOCKER] * 7 + [Device.Kind.RENTAL] * 5
    sites = [s for code, s in sorted(ctx["sites"].items()) if s.kind != s.Kind.WAREHOUSE]
    now = timezone.now()
    for index, kind in enumerate(kinds, start=1):
        site = sites[index % len(sites)]
        online = rnd.random() < 0.8
        devices.append(
            Device.objects.create(
                serial_number=f"SN{2026000 + index:09d}",
                name=f"{Device.Kind(kind).label} {index:02d}",
                kind=kind,
                model_name=MODELS[kind],
                site=site,
                latitude=(site.latitude or Decimal(0))
                + Decimal(rnd.uniform(-0.003, 0.003)).quantize(Decimal("0.000001")),
                longitude=(site.longitude or Decimal(0))
                + Decimal(rnd.uniform(-0.003, 0.003)).quantize(Decimal("0.000001")),
                state=Device.State.ONLINE if online else Device.State.OFFLINE,
                last_seen_at=now
                - timezone.timedelta(seconds=rnd.randrange(5, 60) if online else rnd.randrange(3600, 86400)),
            )
        )
    ctx["devices"] = devices
