"""What the two schemathesis test files share (tests/core/test_schemathesis_no_5xx.py for the
platform administrator, tests/core/test_schemathesis_no_5xx_regional.py for a regional
administrator: two files so that CI's two workers share the work): the served schema, the seeded
world, the WSGI plumbing, the id mapping and the one check. See the first file's docstring."""

from __future__ import annotations

import os
import re

import schemathesis
from django.core.cache import cache
from django.db import transaction
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
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


def seed_every_scoped_model(world) -> None:
    from tests.factories import SCOPED_BUILDERS, SUPPLIER_BUILDERS

    for build in SCOPED_BUILDERS.values():
        build(world.east)
        build(world.west)
    for build in SUPPLIER_BUILDERS.values():
        build(world.supplier)
        build(world.other_supplier)


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


# Bounded and derandomized (the module docstring of test_schemathesis_no_5xx.py).
EXAMPLES = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


def assert_no_5xx(case, token, wsgi_requests, existing_ids):
    """One generated call, with `token`, in a savepoint rolled back afterwards: no 5xx."""
    existing_ids.apply(case)
    wsgi_requests.clear()
    cache.clear()  # throttles start empty: a 429 would hide what comes after it
    with transaction.atomic():
        response = case.call(headers={"Authorization": f"Token {token}"})
        transaction.set_rollback(True)
    if response.status_code >= 500:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code}\n"
            f"query={case.query!r} body={getattr(case, 'body', None)!r}\n" + "\n".join(wsgi_requests)
        )
    case.validate_response(response, checks=[not_a_server_error])
