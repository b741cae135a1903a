"""Registries through which apps to the right (vending, lockers, leasing) learn what devices did,
without devices importing them: command results by command kind, device events by event kind.
Apps register in their AppConfig.ready(); handlers run after commit, and one failing handler is
logged without stopping the others."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

logger = logging.getLogger(__name__)

_RESULT_HANDLERS: dict[str, list[Callable]] = defaultdict(list)
_EVENT_HANDLERS: dict[str, list[Callable]] = defaultdict(list)

# What staff may send from the console, with the permission each needs.
CONSOLE_COMMANDS = {
    "reboot": "devices.change_device",
    "set_temperature": "devices.change_device",
    "open_door": "devices.change_device",
    "dispense": "devices.change_device",
    "update_screen": "devices.change_device",
}

# The commands that make sense for each kind of device: the console offers only these, and the
# console and staff API refuse the others (no "dispense" to a locker bank).
COMMANDS_BY_DEVICE_KIND = {
    "vending": ("reboot", "set_temperature", "dispense", "open_door", "update_screen"),
    "locker": ("reboot", "open_door", "update_screen"),
    "rental": ("reboot", "update_screen"),
}


def result_handler_register(kind: str, handler: Callable) -> None:
    if handler not in _RESULT_HANDLERS[kind]:
        _RESULT_HANDLERS[kind].append(handler)


def device_event_register(kind: str, handler: Callable) -> None:
    if handler not in _EVENT_HANDLERS[kind]:
        _EVENT_HANDLERS[kind].append(handler)


def dispatch_result(command) -> None:
    for handler in list(_RESULT_HANDLERS.get(command.kind, ())):
        try:
            handler(command)
        except Exception:
            logger.exception("Result handler %r failed for command %s", handler, command.command_id)


def dispatch_event(device, kind: str, data: dict) -> None:
    for handler in list(_EVENT_HANDLERS.get(kind, ())):
        try:
            handler(device, data)
        except Exception:
            logger.exception("Event handler %r failed for %s on device %s", handler, kind, device.pk)
