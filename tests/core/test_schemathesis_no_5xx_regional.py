"""Schemathesis over the whole OpenAPI schema as a regional administrator: no operation answers
a 5xx. The same run as tests/core/test_schemathesis_no_5xx.py (see its docstring) with the other
caller; its own file so that CI's two workers share the two callers."""

from __future__ import annotations

import pytest

from tests.core.schemathesis_support import EXAMPLES, assert_no_5xx, schema


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["regional"])  # the item ids name the caller: `[GET /api/v1/…][regional]`
@schema.parametrize()
@EXAMPLES
def test_no_operation_answers_a_5xx(case, who, seeded_tokens, wsgi_requests, existing_ids):
    assert_no_5xx(case, seeded_tokens[who], wsgi_requests, existing_ids)
