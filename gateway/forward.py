"""Edge mode: the gateway runs on a site's box and talks to a remote platform's device API.

Everything it must tell the platform goes through a store-and-forward `Outbox`, a SQLite file on
the box: written first, delivered in order, deleted only when the platform has it. While the
platform is unreachable the queue grows; when it returns every entry is delivered, and each event
carries an `event_id` so a delivery whose answer was lost and is sent again is stored once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import urllib.error
import urllib.request
import uuid

from gateway.driver import Sink

logger = logging.getLogger(__name__)


class Unreachable(Exception):
    pass


class HttpTransport:
    def __init__(self, base_url: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, object]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Device {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
                return response.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as error:
            return error.code, error.read()[:500].decode(errors="replace")
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            raise Unreachable(str(error)) from error


class Outbox:
    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL, "
                "path TEXT NOT NULL, body TEXT NOT NULL, created REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS dead_letter (id INTEGER PRIMARY KEY, token TEXT, path TEXT, body TEXT, "
                "status INTEGER, reason TEXT, created REAL)"
            )

    def _connect(self):
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def put(self, *, token: str, path: str, body: dict) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT INTO outbox (token, path, body, created) VALUES (?, ?, ?, ?)",
                (token, path, json.dumps(body), time.time()),
            )

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def dead_letters(self) -> list[tuple]:
        with self._connect() as db:
            return db.execute("SELECT path, status, reason FROM dead_letter ORDER BY id").fetchall()

    def deliver(self, transport: HttpTransport, *, batch: int = 200) -> int:
        """Deliver in order until the queue is empty or the platform is unreachable. A 4xx answer
        means the platform will never take that entry: it moves to the dead letters, logged."""
        delivered = 0
        while True:
            with self._connect() as db:
                rows = db.execute("SELECT id, token, path, body FROM outbox ORDER BY id LIMIT ?", (batch,)).fetchall()
            if not rows:
                return delivered
            for row_id, token, path, body in rows:
                try:
                    status, answer = transport.call("POST", path, token, json.loads(body))
                except Unreachable as error:
                    with self._connect() as db:
                        db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (row_id,))
                    logger.info("Platform unreachable (%s); %s entries wait", error, len(self))
                    return delivered
                with self._lock, self._connect() as db:
                    if 200 <= status < 300:
                        db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                        delivered += 1
                    elif 400 <= status < 500 and status not in (401, 408, 429):
                        logger.warning("Platform refused %s (%s): %s", path, status, answer)
                        db.execute(
                            "INSERT INTO dead_letter (id, token, path, body, status, reason, created) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (row_id, token, path, body, status, str(answer)[:500], time.time()),
                        )
                        db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                    else:
                        db.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", (row_id,))
                        return delivered  # the platform is unwell: keep order, try later


class EdgeSink(Sink):
    def __init__(self, *, outbox: Outbox, transport: HttpTransport, tokens: dict[int, str]):
        self.outbox = outbox
        self.transport = transport
        self.tokens = tokens

    def event(self, address, kind, data):
        self.outbox.put(
            token=self.tokens[address],
            path="/api/v1/device/events/",
            body={"kind": kind, "data": data, "event_id": str(uuid.uuid4())},
        )

    def status(self, address, locks):
        self.outbox.put(token=self.tokens[address], path="/api/v1/device/heartbeat/", body={"data": {"locks": locks}})

    def pending_commands(self, address):
        try:
            status, commands = self.transport.call("GET", "/api/v1/device/commands/", self.tokens[address])
        except Unreachable:
            return []
        return commands if status == 200 and isinstance(commands, list) else []

    def command_acknowledged(self, address, command):
        try:
            status, answer = self.transport.call(
                "POST", f"/api/v1/device/commands/{command['command_id']}/ack/", self.tokens[address], {}
            )
        except Unreachable:
            return False  # unacknowledged commands are never run
        return status == 200 and isinstance(answer, dict) and answer.get("status") == "acknowledged"

    def code_entered(self, address, code):
        # Checked at once or not at all: a code is never written to the outbox.
        try:
            status, answer = self.transport.call("POST", "/api/v1/device/pickup/", self.tokens[address], {"code": code})
        except Unreachable:
            logger.warning("Code entered at board %s while the platform is unreachable: refused", address)
            return
        logger.info("Code entered at board %s: %s", address, status)

    def command_finished(self, address, command, succeeded, result):
        self.outbox.put(
            token=self.tokens[address],
            path=f"/api/v1/device/commands/{command['command_id']}/result/",
            body={"succeeded": succeeded, "result": result},
        )
