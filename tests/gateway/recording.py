"""A gateway sink that keeps everything in lists, for the gateway tests."""

from dataclasses import dataclass, field

from gateway.driver import Sink


@dataclass
class RecordingSink(Sink):
    """Keeps everything in lists."""

    events: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    commands: dict = field(default_factory=dict)
    finished: list = field(default_factory=list)

    def event(self, address, kind, data):
        self.events.append((address, kind, data))

    def status(self, address, locks):
        self.statuses.append((address, locks))

    def pending_commands(self, address):
        return self.commands.pop(address, [])

    def command_finished(self, address, command, succeeded, result):
        self.finished.append((address, command, succeeded, result))

    def code_entered(self, address, code):
        self.events.append((address, "code_entered", {"length": len(code)}))
