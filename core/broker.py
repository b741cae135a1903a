"""The embedded Celery broker: kombu's SQLAlchemy transport on one SQLite file, made safe for
several processes (the web server, beat, management commands publishing; a worker consuming).

kombu's channel creates its tables and the queue row on first use and only expects the error a
single process sees: two processes starting at once both insert the `celery` queue row and the
loser dies on the unique constraint, or both create the tables. Here either race is resolved by
reading what the winner wrote. A consumed message is deleted when it is taken (kombu keeps every
delivered message forever with `visible = 0`, so the file would only grow); an unacknowledged
message is put back by the worker when it shuts down, as with every virtual transport.

Registered as the `sqlasafe` transport scheme (`sqlasafe+sqlite:///path`) in `config.celery`."""

from __future__ import annotations

import time
from queue import Empty

from kombu.transport.sqlalchemy import Channel as SQLAlchemyChannel
from kombu.transport.sqlalchemy import Transport as SQLAlchemyTransport
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError


class Channel(SQLAlchemyChannel):
    def _open(self):
        for attempt in range(5):
            try:
                return super()._open()
            except OperationalError:  # another process is creating the same tables
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _get_or_create(self, queue):
        for attempt in range(5):
            try:
                return super()._get_or_create(queue)
            except IntegrityError:  # another process created the queue row first: use theirs
                self.session.rollback()
                if attempt == 4:
                    raise

    def _get(self, queue):
        obj = self._get_or_create(queue)
        if self.session.bind.name == "sqlite":
            self.session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        try:
            message = (
                self.session.query(self.message_cls)
                .filter(self.message_cls.queue_id == obj.id)
                .filter(self.message_cls.visible != False)  # noqa: E712 - SQL, not Python
                .order_by(self.message_cls.sent_at)
                .order_by(self.message_cls.id)
                .with_for_update()
                .limit(1)
                .first()
            )
            if message is None:
                raise Empty()
            payload = message.payload
            self.session.delete(message)
            return loads(bytes_to_str(payload))
        finally:
            self.session.commit()


class Transport(SQLAlchemyTransport):
    Channel = Channel
