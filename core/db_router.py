"""Sending read-only work to a PostgreSQL read replica, when there is one (docs/deploy.md, "The
first step when one PostgreSQL is not enough"; docs/adr/0025).

With `DATABASE_REPLICA_URL` set, settings add a second connection, `replica`. Reads go there only
inside `replica_reads()` (a context manager and view decorator): report pages, list pages,
exports, whose readers can live with a replica a second or so behind. Everything else, and every
write, stays on `default`, so a user never misses the row they just wrote. Without a replica the
context changes nothing.

Migrations run on `default` only: the replica receives the schema by replication.
"""

from __future__ import annotations

import contextvars
import functools
from contextlib import contextmanager

from django.conf import settings

REPLICA = "replica"
_reading_from_replica = contextvars.ContextVar("reading_from_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads():
    """Reads inside this block go to the replica (when one is configured)."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view):
    """A view decorator: a GET (or HEAD) request reads from the replica; other methods don't."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in ("GET", "HEAD"):
            return view(request, *args, **kwargs)
        with replica_reads():
            return view(request, *args, **kwargs)

    return wrapped


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reading_from_replica.get() and replica_configured():
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both connections

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
