"""Local mode: the gateway runs beside the platform and calls the devices services directly.
(run_gateway closes stale database connections between cycles, like Django does between requests.)"""

from __future__ import annotations

import logging

from devices import services
from devices.models import Device, DeviceCommand
from gateway.driver import Sink

logger = logging.getLogger(__name__)


class LocalSink(Sink):
    def __init__(self, devices: dict[int, Device]):
        self.devices = devices

    def event(self, address, kind, data):
        services.device_event_record(device=self.devices[address], kind=kind, data=data, actor="gateway")

    def status(self, address, locks):
        services.device_heartbeat(device=self.devices[address], telemetry={"locks": locks})

    def pending_commands(self, address):
        return [
            {"command_id": str(c.command_id), "kind": c.kind, "payload": c.payload}
            for c in services.commands_pending(device=self.devices[address])
        ]

    def command_acknowledged(self, address, command):
        acknowledged = services.command_acknowledge(command_id=command["command_id"], device=self.devices[address])
        return acknowledged.status == DeviceCommand.Status.ACKNOWLEDGED

    def code_entered(self, address, code):
        from django.core.exceptions import ValidationError

        from lockers.services import locker_pickup

        try:
            locker_pickup(bank=self.devices[address], code=code)
        except ValidationError as error:
            logger.info("Code entered at %s refused: %s", self.devices[address], " ".join(error.messages))

    def command_finished(self, address, command, succeeded, result):
        services.command_report(
            command_id=command["command_id"], succeeded=succeeded, result=result, device=self.devices[address]
        )
