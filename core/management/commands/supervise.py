"""Run the embedded background processes and restart any that dies.

`make run` starts this beside the web server: the Celery worker, Celery beat and the background
commands of settings.EMBEDDED_BACKGROUND_COMMANDS. A process that exits (a crash, an out-of-memory
kill, someone's `kill`) is started again after a short pause that grows while it keeps dying
(1 s, 2 s, 4 s … at most 30 s; back to 1 s once it has run for a minute); a background command
that finishes with exit status 0 is done and left alone. What was published while
the worker was down stays in the broker and the new worker consumes it. Each child's pid is
written to VAR_DIR/supervise/<name>.pid. SIGINT/SIGTERM stop the children and then the command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

MAX_PAUSE = 30.0
STABLE_AFTER = 60.0


@dataclass
class Program:
    name: str
    argv: list[str]
    # The worker and beat never finish on their own: any exit (a crash, a kill, a warm shutdown
    # someone asked for) is restarted. A background command that exits 0 is done (the simulated
    # cabinets with no cabinet to simulate); one that fails is restarted.
    always_restart: bool = True
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    pause: float = 1.0
    restart_at: float = 0.0
    restarts: int = field(default=0)


def programs(names: list[str] | None) -> list[Program]:
    python = sys.executable
    celery = [python, "-m", "celery", "-A", "config"]
    manage = [python, str(settings.BASE_DIR / "manage.py")]
    every = [
        Program("worker", [*celery, "worker", "--pool=solo", "--loglevel=WARNING"]),
        Program("beat", [*celery, "beat", "--loglevel=WARNING", "--pidfile="]),
    ]
    every += [
        Program(command, [*manage, command], always_restart=False)
        for command in getattr(settings, "EMBEDDED_BACKGROUND_COMMANDS", [])
    ]
    if not names:
        return every
    known = {program.name: program for program in every}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise CommandError(f"Unknown program(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


class Command(BaseCommand):
    help = "Run the Celery worker, beat and the background commands, restarting any that exits."

    def add_arguments(self, parser):
        parser.add_argument(
            "programs", nargs="*", help="Only these (worker, beat, or a background command); all by default."
        )

    def handle(self, *args, **options):
        self.children = programs(options["programs"])
        self.pid_dir = settings.VAR_DIR / "supervise"
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.stopping = False
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for program in self.children:
            self._start(program)
        try:
            while not self.stopping:
                self._watch()
                time.sleep(0.5)
        finally:
            self._shutdown()

    def _stop(self, signum, frame):
        self.stopping = True

    def _start(self, program: Program) -> None:
        program.process = subprocess.Popen(program.argv, cwd=settings.BASE_DIR)
        program.started_at = time.monotonic()
        (self.pid_dir / f"{program.name}.pid").write_text(str(program.process.pid))

    def _watch(self) -> None:
        now = time.monotonic()
        for program in self.children:
            if self.stopping:
                return
            if program.process is None:
                if now >= program.restart_at:
                    program.restarts += 1
                    self.stderr.write(f"supervise: restarting {program.name} (restart {program.restarts})")
                    self._start(program)
                continue
            code = program.process.poll()
            if code is None:
                if now - program.started_at > STABLE_AFTER:
                    program.pause = 1.0
                continue
            if code == 0 and not program.always_restart:
                self.stderr.write(f"supervise: {program.name} finished")
                program.process = None
                program.restart_at = float("inf")
                continue
            self.stderr.write(f"supervise: {program.name} exited with {code}; restarting in {program.pause:.0f} s")
            program.process = None
            program.restart_at = now + program.pause
            program.pause = min(program.pause * 2, MAX_PAUSE)

    def _shutdown(self) -> None:
        running = [p.process for p in self.children if p.process is not None and p.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + 15
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
        for program in self.children:
            try:
                os.unlink(self.pid_dir / f"{program.name}.pid")
            except FileNotFoundError:
                pass
