"""About thirty demo devices of the three kinds, paired, with a day of telemetry, a few open
faults and a command log."""

from decimal import Decimal

from django.utils import timezone

from devices.models import Device, DeviceCommand, DeviceCommandEvent, DeviceCredential, DeviceEvent, Fault, Telemetry

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
    # The demo store manager's and clerk's store rents power banks too (its leasing pages).
    store = ctx["sites"].get("sh-store-1")
    if store and not any(d.kind == Device.Kind.RENTAL and d.site_id == store.pk for d in devices):
        index = len(kinds) + 1
        devices.append(
            Device.objects.create(
                serial_number=f"SN{2026000 + index:09d}",
                name=f"{Device.Kind.RENTAL.label} {index:02d}",
                kind=Device.Kind.RENTAL,
                model_name=MODELS[Device.Kind.RENTAL],
                site=store,
                latitude=store.latitude,
                longitude=store.longitude,
                state=Device.State.ONLINE,
                last_seen_at=now - timezone.timedelta(seconds=20),
            )
        )
    ctx["devices"] = devices
    _history(rnd, devices, now)


def _history(rnd, devices, now):
    import hashlib
    import uuid

    telemetry, events = [], []
    for device in devices:
        # Paired at install; tokens are issued to real machines by rotating them in the console.
        DeviceCredential.objects.create(
            device=device,
            token_hash=hashlib.sha256(f"demo-{device.serial_number}".encode()).hexdigest(),
            token_prefix="dv_demo",
        )
        device.paired_at = now - timezone.timedelta(days=90)
        device.firmware = rnd.choice(["2.4.1", "2.4.3", "3.0.0"])
        device.save(update_fields=["paired_at", "firmware"])
        base = 4.0 if device.kind == Device.Kind.VENDING else 22.0
        for step in range(48):  # a day, every half hour
            telemetry.append(
                Telemetry(
                    device=device,
                    at=now - timezone.timedelta(minutes=30 * step),
                    powered=True,
                    signal_dbm=rnd.randrange(-95, -55),
                    temperature=Decimal(str(round(base + rnd.uniform(-1.5, 1.5), 1))),
                    door_open=False,
                    firmware=device.firmware,
                )
            )
        events.append(DeviceEvent(device=device, kind="paired", actor_label="installer"))
    Telemetry.objects.bulk_create(telemetry)
    DeviceEvent.objects.bulk_create(events)
    for device in rnd.sample(devices, 4):
        slot = str(rnd.randrange(10, 60))
        Fault.objects.create(
            device=device, code=rnd.choice(["MOTOR", "JAM", "SENSOR"]), slot=slot, message="reported by the machine"
        )
    for device in rnd.sample(devices, 6):
        kind = "reboot" if device.kind != Device.Kind.LOCKER else "open_door"
        command = DeviceCommand.objects.create(
            device=device,
            command_id=uuid.uuid4(),
            kind=kind,
            payload={"door": 3} if kind == "open_door" else {},
            status=DeviceCommand.Status.SUCCEEDED,
            attempts=1,
            expires_at=now,
            finished_at=now,
            actor_label="admin",
        )
        for before, after in (
            ("", "queued"),
            ("queued", "sent"),
            ("sent", "acknowledged"),
            ("acknowledged", "succeeded"),
        ):
            DeviceCommandEvent.objects.create(command=command, from_status=before, to_status=after, actor_label="admin")
