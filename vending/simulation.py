"""A light simulation of the demo fleet for `make run`: the demo machines that have no simulated
cabinet behind them send heartbeats with telemetry, sell now and then (coin payment, dispense
command acknowledged and reported), answer the commands sent to them from the console, and
once in a while report a slot fault that they clear a few minutes later.

It goes through the same services the device API calls for a machine (heartbeat, sale, payment,
commands, faults), so every page that shows the fleet sees what a real machine would cause. It
never runs outside the demo: only devices paired with the demo credentials take part.
"""

from __future__ import annotations

import datetime
import logging
import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from devices import services as device_services
from devices.models import Device, Fault

logger = logging.getLogger(__name__)

DEMO_TOKEN_PREFIX = "dv_demo"  # devices.demo pairs every demo device under this prefix
SIMULATOR_LABEL = "demo simulator"
# A heartbeat every 20-40 s: well inside DEVICE_OFFLINE_AFTER_SECONDS (120 s by default).
HEARTBEAT_SECONDS = (20, 40)
# On average a machine sells once every ten minutes and reports a fault once every few hours.
SALE_CHANCE_PER_MINUTE = 0.1
FAULT_CHANCE_PER_MINUTE = 0.005
FAULT_MINUTES = (2, 8)
BASE_TEMPERATURE = {Device.Kind.VENDING: 4.0}


@dataclass
class _Machine:
    device: Device
    next_heartbeat: datetime.datetime
    fault_clears_at: dict[int, datetime.datetime] = field(default_factory=dict)


class DemoFleet:
    """`tick(now)` moves the simulated fleet to `now`; call it every few seconds (or, in a test,
    with a compressed clock). `skip` names device ids something else drives (the simulated cabinets)."""

    def __init__(self, *, seed: int | None = None, skip: set[int] | None = None):
        self.random = random.Random(seed)
        self.skip = set(skip or ())
        self.machines: dict[int, _Machine] = {}
        self.last_tick: datetime.datetime | None = None

    def devices(self):
        return (
            Device.objects.filter(is_active=True, credential__token_prefix=DEMO_TOKEN_PREFIX)
            .select_related("site__region")
            .order_by("pk")
        )

    def tick(self, now: datetime.datetime) -> None:
        elapsed_minutes = 0.0 if self.last_tick is None else max(0.0, (now - self.last_tick).total_seconds() / 60)
        self.last_tick = now
        known = {}
        for device in self.devices():
            machine = self.machines.get(device.pk) or _Machine(device=device, next_heartbeat=now)
            known[device.pk] = machine
            if device.pk in self.skip:
                # Driven by a simulated cabinet; stand in for it only when that has gone quiet.
                steps = (self._heartbeat,) if self._silent(device, now) else ()
            else:
                steps = (self._heartbeat, self._commands, self._faults, self._sell)
            for step in steps:
                try:
                    step(machine, now, elapsed_minutes)
                except ValidationError as error:  # a refused sale or command: as a machine would, carry on
                    logger.info("Demo %s: %s", device.serial_number, " ".join(error.messages))
        self.machines = known

    # --- What a machine does ------------------------------------------------------------------
    def _heartbeat(self, machine: _Machine, now, _minutes) -> None:
        if now < machine.next_heartbeat:
            return
        device = machine.device
        telemetry = {"power": True, "signal_dbm": self.random.randrange(-95, -55)}
        if device.kind in BASE_TEMPERATURE:
            telemetry["temperature"] = str(
                Decimal(str(round(BASE_TEMPERATURE[device.kind] + self.random.uniform(-1.0, 1.0), 1)))
            )
        machine.device = device_services.device_heartbeat(device=device, telemetry=telemetry, at=now)
        machine.next_heartbeat = now + datetime.timedelta(seconds=self.random.randint(*HEARTBEAT_SECONDS))

    def _commands(self, machine: _Machine, now, _minutes) -> None:
        """Run what the platform asked for: a dispense after a sale, a reboot from the console…"""
        device = machine.device
        for command in device_services.commands_pending(device=device, now=now):
            acknowledged = device_services.command_acknowledge(command_id=command.command_id, device=device)
            if acknowledged.status != acknowledged.Status.ACKNOWLEDGED:
                continue
            device_services.command_report(
                command_id=command.command_id, succeeded=True, result={"by": SIMULATOR_LABEL}, device=device
            )

    def _faults(self, machine: _Machine, now, minutes) -> None:
        device = machine.device
        for fault_id, clears_at in list(machine.fault_clears_at.items()):
            if now >= clears_at:
                fault = Fault.objects.filter(pk=fault_id, resolved_at__isnull=True).first()
                if fault is not None:
                    device_services.fault_resolve(fault=fault, actor=device)
                del machine.fault_clears_at[fault_id]
        if machine.fault_clears_at or not self._happens(FAULT_CHANCE_PER_MINUTE, minutes):
            return
        slot = ""
        if device.kind == Device.Kind.VENDING:
            codes = list(device.slots.filter(is_active=True).values_list("code", flat=True))
            slot = self.random.choice(codes) if codes else ""
        code = self.random.choice(["JAM", "MOTOR", "SENSOR"] if slot else ["DOOR", "SENSOR"])
        fault = device_services.fault_open(
            device=device, code=code, slot=slot, message=f"reported by the {SIMULATOR_LABEL}", actor=device
        )
        machine.fault_clears_at[fault.pk] = now + datetime.timedelta(minutes=self.random.randint(*FAULT_MINUTES))

    def _sell(self, machine: _Machine, now, minutes) -> None:
        device = machine.device
        if device.kind != Device.Kind.VENDING or not self._happens(SALE_CHANCE_PER_MINUTE, minutes):
            return
        from vending.services import vend_pay, vend_start

        codes = list(
            device.slots.filter(is_active=True, level__quantity__gt=0, product__is_active=True).values_list(
                "code", flat=True
            )
        )
        if not codes:
            return
        vend = vend_start(device=device, slot_code=self.random.choice(codes), request_id=f"sim-{uuid.uuid4().hex}")
        with transaction.atomic():
            vend_pay(vend=vend, method="coin", amount=vend.order.balance_due)

    @staticmethod
    def _silent(device: Device, now) -> bool:
        quiet = datetime.timedelta(seconds=settings.DEVICE_OFFLINE_AFTER_SECONDS / 2)
        return device.last_seen_at is None or now - device.last_seen_at > quiet

    def _happens(self, chance_per_minute: float, minutes: float) -> bool:
        return minutes > 0 and self.random.random() < min(1.0, chance_per_minute * minutes)
