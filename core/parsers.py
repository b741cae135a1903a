"""The API's JSON parser: standard JSON only, bounded in depth, numbers finite, no NUL in text.

Python's json module accepts `NaN`/`Infinity` literals, turns `1e309` into an infinite float
and recurses once per nesting level, so a hostile body either reaches a money field as a
non-finite number (stored on SQLite, then every read of it fails) or ends in a RecursionError.
A NUL character (\\u0000) in a string is valid JSON that PostgreSQL stores in neither text nor jsonb
(a free-form JSON field such as a command's payload then failed with a 500).
This parser refuses all four with a 400 before any view sees the data. It does not validate
fields: serializers still do that.
"""

from __future__ import annotations

import codecs
import json
import math

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deep enough for any body our endpoints take (they nest two or three levels), far below the
# interpreter's recursion limit.
MAX_JSON_DEPTH = 32


class UnsafeJSON(ValueError):
    """The body is valid JSON in Python's lenient sense but not one we accept."""


def _reject_constant(name: str):
    raise UnsafeJSON(_("%(value)s is not a number this API accepts.") % {"value": name})


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise UnsafeJSON(_("%(value)s is too large a number.") % {"value": text[:40]})
    return value


def _check_depth(text: str, limit: int) -> None:
    """Refuse more than `limit` nested arrays/objects without recursing (strings skipped)."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                raise UnsafeJSON(_("The JSON body is nested more than %(limit)d levels deep.") % {"limit": limit})
        elif char in "]}":
            depth -= 1


def _has_nul(data) -> bool:
    """A NUL character in any key or string of parsed JSON (PostgreSQL stores none in text or jsonb)."""
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def safe_json_loads(text: str | bytes):
    """json.loads that raises ValueError (UnsafeJSON) for deep nesting, non-finite numbers and
    NUL characters in strings."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    _check_depth(text, MAX_JSON_DEPTH)
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError as exc:  # belt and braces: the depth check should have caught it
        raise UnsafeJSON(_("The JSON body is nested too deeply.")) from exc
    # Strict JSON refuses a raw NUL in a string, so one can only come as the escape \u0000.
    if "u0000" in text and _has_nul(data):
        raise UnsafeJSON(_("Text in the body may not contain the NUL character (\\u0000)."))
    return data


class SafeJSONParser(JSONParser):
    """DRF's JSONParser with safe_json_loads: deep or non-finite JSON is a 400, not a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError as exc:
            raise ParseError(_("The body is not valid %(encoding)s.") % {"encoding": encoding}) from exc
        try:
            return safe_json_loads(text)
        except UnsafeJSON as exc:
            raise ParseError(str(exc)) from exc
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
