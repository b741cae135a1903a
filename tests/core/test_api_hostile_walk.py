"""Every operation of the OpenAPI schema answers hostile input without a 5xx.

A bounded, deterministic walk (schemathesis explores much more, in test_schemathesis_no_5xx.py;
this one keeps the known hostile inputs explicit): for each
path and method in the generated schema, as a platform and as a regional administrator, send
a non-numeric id, an empty body, a body of wrong types, a non-finite number and deep nesting.
Any 5xx, or an exception the test client re-raises, fails the test.
"""

from __future__ import annotations

import re

import pytest
import yaml
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

HOSTILE_BODIES = [
    "{}",
    '{"id": "x", "amount": "abc", "price": [], "quantity": {"a": 1}, "site": "x", "device": -1}',
    '{"amount": NaN, "price": Infinity, "sale_price": 1e309, "temperature": -Infinity}',
    "[" * 2000 + "]" * 2000,
    "not json",
]
PATH_PARAM = re.compile(r"\{[^}]+\}")


def _operations(client) -> list[tuple[str, str]]:
    schema = yaml.safe_load(client.get("/api/schema/").content)
    return [
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


@pytest.mark.parametrize("who", ["admin", "regional"])
def test_no_operation_answers_hostile_input_with_a_5xx(world, who):
    client = APIClient()
    client.force_authenticate(getattr(world, who))
    failures = []
    for path, method in _operations(client):
        for id_value in ("abc", "0", "999999999999999999999"):
            url = PATH_PARAM.sub(id_value, path)
            bodies = HOSTILE_BODIES if method in {"POST", "PUT", "PATCH"} else [None]
            for body in bodies:
                if body is None:
                    response = client.generic(method, url)
                else:
                    response = client.generic(method, url, body, content_type="application/json")
                if response.status_code >= 500:
                    failures.append(f"{method} {url} {body and body[:40]!r} -> {response.status_code}")
            if "{" not in path:
                break
    assert not failures, "\n".join(failures)
