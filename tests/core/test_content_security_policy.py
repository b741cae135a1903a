"""Every response carries a Content-Security-Policy that allows no inline script, and no template
puts script inline (an inline handler or a <script> without src would be blocked by it)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)


@pytest.mark.parametrize("url", ["/staff/login/", "/api/docs/", "/admin/login/"])
def test_responses_carry_a_policy_without_inline_script(client, url):
    response = client.get(url)
    policy = response.headers["Content-Security-Policy"]
    script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "'self'" in script_src


def test_api_docs_load_their_script_from_a_url_not_inline(client):
    response = client.get("/api/docs/")
    assert INLINE_SCRIPT.search(response.content.decode()) is None


def test_no_template_of_ours_has_inline_script_or_handlers():
    root = Path(settings.BASE_DIR)
    offenders = []
    for template in root.glob("**/templates/**/*.html"):
        if {".venv", "var"} & set(template.relative_to(root).parts):
            continue
        text = template.read_text(encoding="utf-8")
        if INLINE_HANDLER.search(text) or INLINE_SCRIPT.search(text):
            offenders.append(str(template.relative_to(root)))
    assert offenders == []
