"""Schemathesis over the whole OpenAPI schema: no operation answers a 5xx (this file: as a
platform administrator; tests/core/test_schemathesis_no_5xx_regional.py: as a regional
administrator; two files so that CI's two workers share them, each with its own seeded world).

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

import pytest

from tests.core.schemathesis_support import EXAMPLES, assert_no_5xx, schema


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["admin"])  # the item ids name the caller: `[GET /api/v1/…][admin]`
@schema.parametrize()
@EXAMPLES
def test_no_operation_answers_a_5xx(case, who, seeded_tokens, wsgi_requests, existing_ids):
    assert_no_5xx(case, seeded_tokens[who], wsgi_requests, existing_ids)
