"""For other apps' tests: answer a device's commands as the machine would."""

from devices.models import DeviceCommand
from devices.services import command_acknowledge, command_report


def answer_pending(device, succeeded: bool = True, result: dict | None = None) -> list[DeviceCommand]:
    """Acknowledge and report every queued or sent command of `device`; returns them, refreshed."""
    answered = []
    for command in DeviceCommand.objects.filter(device=device, status__in=["queued", "sent", "acknowledged"]):
        command_acknowledge(command_id=command.command_id, device=device)
        answered.append(
            command_report(command_id=command.command_id, succeeded=succeeded, result=result, device=device)
        )
    return answered
