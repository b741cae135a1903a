"""Single-row statements for the hottest paths, written from the models' own metadata.

The ORM compiles every query anew. For the dozen one-row statements of a vending sale that costs
more CPU than PostgreSQL spends running them (bench/sale.py: about three quarters of a sale's
Python time was query compilation and model saves). These helpers write exactly what a model save
or a one-row filter would, through the fields' own database preparation (`pre_save`, so
`auto_now` and `auto_now_add` work, and `get_db_prep_save`) and the backend's own converters on
the way back, with the statement text built once per model, so psycopg prepares it.

What they leave out, on purpose:
- model signals. Nothing in the project listens to saves (STYLE.md: no signals for domain side
  effects), and tests/core/test_sql.py fails if a receiver is ever connected to a model written here;
- models that override `save()` or inherit from a concrete model: refused with TypeError, so custom
  save logic is never skipped;
- validation: services validate before they write, as they do before `objects.create`.

Services use them where a statement runs on every sale; everywhere else the ORM is the default.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, models, router
from django.utils.asyncio import async_unsafe


def _connection(model):
    return connections[router.db_for_write(model)]


@async_unsafe
def cursor(connection=None):
    """A cursor of `connection` (the default database's) kept for the connection's next statement.

    A cursor costs more to make than a one-row statement costs to run (psycopg copies its adapters
    for each), and a sale runs twenty. The same Django cursor wrapper serves them all, so errors,
    execute wrappers and the broken-transaction check behave as with `connection.cursor()`. A new
    one is made when the connection was closed or replaced, and whenever queries are being logged
    (DEBUG, `CaptureQueriesContext`, `django_assert_num_queries`), so they see every statement."""
    connection = connection or connections[DEFAULT_DB_ALIAS]
    if connection.queries_logged:
        return connection.cursor()
    kept = getattr(connection, "_core_sql_cursor", None)
    raw = connection.connection
    if (
        kept is None
        or raw is None
        or kept.cursor.connection is not raw
        or getattr(kept.cursor, "closed", False)
        or getattr(raw, "closed", False)
    ):
        kept = connection.cursor()
        connection._core_sql_cursor = kept
    return _Kept(kept)


class _Kept:
    """`with sql.cursor() as cursor:` without closing the kept cursor at the end."""

    __slots__ = ("wrapper",)

    def __init__(self, wrapper):
        self.wrapper = wrapper

    def __enter__(self):
        return self.wrapper

    def __exit__(self, *exc):
        return False


_WRITTEN: set[type[models.Model]] = set()


@cache
def _plain(model) -> None:
    if model.save is not models.Model.save:
        raise TypeError(f"{model.__name__} overrides save(); core.sql would skip it. Use the ORM.")
    if model._meta.parents:
        raise TypeError(f"{model.__name__} inherits from a concrete model; core.sql writes one table only.")
    _WRITTEN.add(model)


def written_models() -> frozenset[type[models.Model]]:
    """The models this process has written through core.sql (for the test that no signal
    receiver listens to any of them)."""
    return frozenset(_WRITTEN)


@cache
def _insert_fields(model) -> tuple:
    """The columns an INSERT writes: every concrete field but an auto-generated primary key."""
    return tuple(f for f in model._meta.concrete_fields if not (f.primary_key and f.db_returning))


@cache
def _insert_sql(model, vendor: str, rows: int) -> str:
    connection = _connection(model)
    quote = connection.ops.quote_name
    meta = model._meta
    fields = _insert_fields(model)
    values = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES {', '.join([values] * rows)} RETURNING {quote(meta.pk.column)}"
    )


def insert(*objs: models.Model) -> None:
    """INSERT `objs` (unsaved instances of one model) in one statement and set their primary keys.

    The same row `obj.save(force_insert=True)` writes, without the signals."""
    if not objs:
        return
    model = type(objs[0])
    _plain(model)
    if any(type(obj) is not model for obj in objs):
        raise TypeError("core.sql.insert writes instances of one model at a time.")
    connection = _connection(model)
    fields = _insert_fields(model)
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        params.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
    with cursor(connection) as kept:
        kept.execute(_insert_sql(model, connection.vendor, len(objs)), params)
        keys = kept.fetchall()
    for obj, (pk,) in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


@cache
def _update_sql(model, vendor: str, names: tuple[str, ...]) -> str:
    connection = _connection(model)
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(f"{quote(meta.get_field(name).column)} = %s" for name in names)
    return f"UPDATE {quote(meta.db_table)} SET {columns} WHERE {quote(meta.pk.column)} = %s"


def update(obj: models.Model, fields: Sequence[str]) -> None:
    """UPDATE `fields` of a saved `obj` from its attributes: `obj.save(update_fields=fields)` without
    the signals (an `auto_now` field among them is stamped, as save() does)."""
    model = type(obj)
    _plain(model)
    names = tuple(dict.fromkeys(fields))
    connection = _connection(model)
    meta = model._meta
    params = [
        meta.get_field(name).get_db_prep_save(meta.get_field(name).pre_save(obj, False), connection) for name in names
    ]
    params.append(meta.pk.get_db_prep_value(obj.pk, connection))
    with cursor(connection) as kept:
        kept.execute(_update_sql(model, connection.vendor, names), params)
        if kept.rowcount != 1:
            raise DatabaseError(f"{model.__name__} {obj.pk} was not updated: no such row.")


class Columns:
    """Some columns of a model in a hand-written SELECT, and the instances made from them.

        ORDER = Columns(Order)                          # every concrete field
        SLOT = Columns(Slot, ("id", "code", "price"), alias="s")
        f"SELECT {SLOT.sql}, ... FROM vending_slot s ..."
        slot = SLOT.load(row)                           # fields not read are deferred

    A field not read loads itself on first access, as with `.only()`, so a caller that needs more
    than the hot path reads still gets the right value."""

    def __init__(self, model, fields: Sequence[str] | None = None, *, alias: str | None = None):
        meta = model._meta
        wanted = set(meta.concrete_fields if fields is None else (meta.get_field(name) for name in fields))
        # In the model's own field order: that is the order Model.from_db expects a partial row in.
        chosen = [f for f in meta.concrete_fields if f in wanted]
        if len(chosen) != len(wanted):
            raise ValueError("Columns reads concrete fields only.")
        if meta.pk not in chosen:
            raise ValueError("Columns needs the primary key among its fields.")
        self.model = model
        self.fields = tuple(chosen)
        self.alias = alias or meta.db_table
        self.attnames = [f.attname for f in self.fields]
        self.width = len(self.fields)
        self._sql: dict[str, str] = {}
        self._converters: dict[str, list] = {}

    def sql_for(self, connection) -> str:
        if connection.vendor not in self._sql:
            quote = connection.ops.quote_name
            self._sql[connection.vendor] = ", ".join(f"{quote(self.alias)}.{quote(f.column)}" for f in self.fields)
        return self._sql[connection.vendor]

    @property
    def sql(self) -> str:
        return self.sql_for(_connection(self.model))

    def _converters_for(self, connection) -> list:
        if connection.vendor not in self._converters:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if converters:
                    found.append((index, column, converters))
            self._converters[connection.vendor] = found
        return self._converters[connection.vendor]

    def load(self, row: Sequence, start: int = 0, *, connection=None) -> models.Model:
        """An instance from `row[start:start + width]`, as the ORM would have made it."""
        connection = connection or _connection(self.model)
        values = list(row[start : start + self.width])
        for index, column, converters in self._converters_for(connection):
            value = values[index]
            for converter in converters:
                value = converter(value, column, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.attnames, values)
