"""Schemathesis over the whole OpenAPI schema: no operation answers a 5xx.

The schema is the one the application serves at /api/schema/. Every operation in it (every
path, every method), as a platform administrator and as a regional administrator, goes through
the real WSGI application with a DRF token, the way a client calls it. Schemathesis runs its
explicit-examples, coverage (boundary and schema-violating values, unexpected methods) and
fuzzing phases, positive and negative; the only check is `not_a_server_error`.

The database holds the usual two-region world plus one row of every scoped model in each region
(tests/factories.py SCOPED_BUILDERS), and most generated `{id}`s are mapped onto those rows, so
detail routes and their actions meet real objects and not only 404s. Each example runs in a
savepoint that is rolled back, so every example starts from the same state (deterministic).

Bounded and derandomized: the fuzzing phase draws SCHEMATHESIS_MAX_EXAMPLES examples per
operation and caller (25 by default on PostgreSQL, the leg that is CI's proof: about 175 requests
per operation; 8 on the embedded SQLite leg, which then mostly re-checks the same deterministic
coverage cases); the coverage phase adds its own deterministic cases. See docs/adr/0018.
SCHEMATHESIS_PATH_REGEX and SCHEMATHESIS_METHODS limit a local run to some operations.
"""

from __future__ import annotations

import os
import re
import traceback

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error


def _default_examples() -> str:
    from django.db import connection

    return "25" if connection.vendor == "postgresql" else "8"


MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES") or _default_examples())
DIGITS = re.compile(r"[0-9]+")


def _load_schema():
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    if os.environ.get("SCHEMATHESIS_PATH_REGEX"):  # a local run over some paths only
        schema = schema.include(path_regex=os.environ["SCHEMATHESIS_PATH_REGEX"])
    if os.environ.get("SCHEMATHESIS_METHODS"):  # or some methods only, e.g. "POST,PATCH"
        schema = schema.include(method=os.environ["SCHEMATHESIS_METHODS"].split(","))
    return schema


schema = _load_schema()


def _seed_every_scoped_model(world) -> None:
    from tests.factories import SCOPED_BUILDERS, SUPPLIER_BUILDERS

    for build in SCOPED_BUILDERS.values():
        build(world.east)
        build(world.west)
    for build in SUPPLIER_BUILDERS.values():
        build(world.supplier)
        build(world.other_supplier)


@pytest.fixture(scope="module")
def seeded_tokens(django_db_setup, django_db_blocker):
    """One world for the whole module, built once in a transaction rolled back at the end (each
    test's own transaction nests inside it): the two-region world, one row of every scoped model
    in each region, and an API token for each caller."""
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from config.celery import app
    from tests.factories import build_world

    app.conf.task_always_eager = True
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            world = build_world()
            _seed_every_scoped_model(world)
        tokens = {who: Token.objects.create(user=getattr(world, who)).key for who in ("admin", "regional")}
        yield tokens
        transaction.set_rollback(True)


@pytest.fixture
def wsgi_requests():
    """Requests go through Django's WSGI handler, which closes old connections when a request
    starts and finishes; inside the test's transaction that would end it, so (like Django's test
    client) the receiver is disconnected meanwhile. Exceptions are recorded for the report."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    errors: list[str] = []

    def record(sender, request=None, **kwargs):
        errors.append(traceback.format_exc())

    got_request_exception.connect(record)
    yield errors
    got_request_exception.disconnect(record)
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class ExistingIds:
    """Maps most generated ids of a detail route onto rows that exist; one in four (n % 4 == 3)
    is kept as generated, usually an id no row has."""

    def __init__(self):
        self._by_path: dict[str, list[str]] = {}

    def _ids(self, path: str) -> list[str]:
        if path not in self._by_path:
            try:
                match = resolve(re.sub(r"\{[^}]+\}", "1", path))
            except Resolver404:
                match = None
            viewset = getattr(getattr(match, "func", None), "cls", None)
            queryset = getattr(viewset, "queryset", None)
            ids = (
                [] if queryset is None else queryset.model._default_manager.order_by("pk").values_list("pk", flat=True)
            )
            self._by_path[path] = [str(pk) for pk in ids]
        return self._by_path[path]

    def apply(self, case) -> None:
        for name, value in case.path_parameters.items():
            if isinstance(value, str) and DIGITS.fullmatch(value):
                ids = self._ids(case.path)
                number = int(value)
                if ids and number % 4 != 3:
                    case.path_parameters[name] = ids[number % len(ids)]


@pytest.fixture
def existing_ids():
    return ExistingIds()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin", "regional"])
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_5xx(case, who, seeded_tokens, wsgi_requests, existing_ids):
    existing_ids.apply(case)
    wsgi_requests.clear()
    cache.clear()  # throttles start empty: a 429 would hide what comes after it
    with transaction.atomic():
        response = case.call(headers={"Authorization": f"Token {seeded_tokens[who]}"})
        transaction.set_rollback(True)
    if response.status_code >= 500:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code}\n"
            f"query={case.query!r} body={getattr(case, 'body', None)!r}\n" + "\n".join(wsgi_requests)
        )
    case.validate_response(response, checks=[not_a_server_error])
