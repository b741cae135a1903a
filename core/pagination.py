"""Paging and counting long lists without reading the whole table: keyset (cursor) pages and
bounded or estimated counts, for console pages, the API and the admin (docs/adr/0025).

An OFFSET page makes the database read and throw away every row before it, so page 2,000 of a
million orders costs a hundred thousand rows; a keyset page starts where the last one ended
(`created_at <= t AND (created_at < t OR id < pk)`, which an index on (created_at, id) answers
directly) and costs the same at any depth. A `COUNT(*)` of an unfiltered list reads the whole
table too: here it is either PostgreSQL's own estimate (`pg_class.reltuples`, kept by ANALYZE and
autovacuum) or a count that stops at `COUNT_LIMIT` and says "more than".

What this module does not do: pick the ordering. A list pages by one non-null column plus the
primary key, in the direction its view asks for.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.pagination import LimitOffsetPagination

# A count that has read this many rows stops and says "more than": enough for any operator to
# see "this filter is too wide", cheap enough (an index-only scan of 10,001 entries) for every
# page view.
COUNT_LIMIT = 10_000
# Below this many rows PostgreSQL's estimate is too coarse to show; count them exactly.
ESTIMATE_FLOOR = 100_000


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool  # False: `value` is an estimate ("about") or a floor ("more than")
    estimated: bool = False  # True: from the planner's statistics, not from reading rows

    def __str__(self) -> str:
        if self.exact:
            return f"{self.value:,}"
        if self.estimated:
            return _("about %(n)s") % {"n": f"{self.value:,}"}
        return _("more than %(n)s") % {"n": f"{self.value:,}"}

    def as_json(self) -> dict:
        return {"value": self.value, "exact": self.exact, "estimated": self.estimated}


def table_estimate(model, using: str = "default") -> int | None:
    """PostgreSQL's estimate of the rows of `model`'s table; None elsewhere or never analysed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    if row is None or row[0] is None or row[0] < 0:  # -1: never vacuumed or analysed
        return None
    return int(row[0])


def is_unfiltered(queryset) -> bool:
    """True when the queryset selects every row of its table (no WHERE clause)."""
    return not queryset.query.where


def bounded_count(queryset, *, limit: int | None = None) -> Count:
    """How many rows `queryset` holds, reading at most `limit + 1` (COUNT_LIMIT) of them; an
    unfiltered list of a big PostgreSQL table is answered from the table's statistics instead."""
    limit = COUNT_LIMIT if limit is None else limit
    if is_unfiltered(queryset):
        estimate = table_estimate(queryset.model, queryset.db)
        if estimate is not None and estimate >= ESTIMATE_FLOOR:
            return Count(estimate, exact=False, estimated=True)
    found = queryset.order_by()[: limit + 1].count()
    if found > limit:
        return Count(limit, exact=False)
    return Count(found, exact=True)


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's estimate of the rows `queryset` selects: EXPLAIN's top plan node, planned
    from the statistics without reading a row (about a millisecond, whatever the joins); None
    elsewhere."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def planned_count(queryset, *, limit: int | None = None) -> Count:
    """`bounded_count`, except that a filtered list the planner expects to hold more than `limit`
    rows gets the planner's estimate ("about") instead of a count that reads `limit + 1` of them.

    For lists whose filter is a join (a payment's region is its order's): reaching the 10,001st
    row of a region there reads the table through the join, 0.35 s for payments and 3.8 s for
    refunds at 10,000,000 orders (docs/adr/0025). Where the planner expects `limit` rows or
    fewer the count is read as before, so a small list (one order's payments) stays exact. The
    price: an estimate above `limit` for a list that really holds fewer says "about" a number
    that is too high, where a read count would have been exact."""
    limit = COUNT_LIMIT if limit is None else limit
    if not is_unfiltered(queryset):
        estimate = planner_estimate(queryset)
        if estimate is not None and estimate > limit:
            return Count(estimate, exact=False, estimated=True)
    return bounded_count(queryset, limit=limit)


class EstimatedCountPaginator(Paginator):
    """A Paginator (the admin's) whose count never reads more than COUNT_LIMIT rows; pages past
    the counted ones are still reachable from the page links of the last counted page."""

    @cached_property
    def count(self):
        return bounded_count(self.object_list).value


# --- Keyset pages -----------------------------------------------------------------------------
class BadCursor(ValidationError):
    pass


@dataclass(frozen=True)
class Ordering:
    """One column (non-null) plus the primary key, descending or ascending.

    `sort_matches`: the list is filtered down to a few thousand rows at most (a search), so the
    database should find them through the filter's index and sort them, rather than walk the
    ordering's index until it has met enough matches. PostgreSQL assumes matches are spread
    evenly along that index and, for a LIMIT, prefers the walk: at a million orders it read 30,000
    rows to find 51 of a phone prefix's 1,700 (bench/order_lists.py, "search"). Sorting by
    COALESCE(col, col), the same values, takes that index out of its choices."""

    field: str
    descending: bool = True
    sort_matches: bool = False

    @classmethod
    def parse(cls, text: str, *, sort_matches: bool = False) -> Ordering:
        text = text.strip()
        return cls(field=text.lstrip("-"), descending=text.startswith("-"), sort_matches=sort_matches)

    @property
    def key(self) -> str:
        return ("-" if self.descending else "") + self.field

    def order_by(self, *, reverse: bool = False) -> list:
        from django.db.models import F
        from django.db.models.functions import Coalesce

        descending = self.descending != reverse
        sign = "-" if descending else ""
        if self.sort_matches:
            column = Coalesce(F(self.field), F(self.field))
            return [column.desc() if descending else column.asc(), f"{sign}pk"]
        return [f"{sign}{self.field}", f"{sign}pk"]


def encode_cursor(ordering: Ordering, obj, *, direction: str) -> str:
    value = getattr(obj, ordering.field)
    payload = {"o": ordering.key, "v": value.isoformat() if hasattr(value, "isoformat") else str(value), "pk": obj.pk}
    payload["d"] = direction
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(model, ordering: Ordering, token: str) -> tuple[str, object, int]:
    """(direction, value, pk) of a cursor made by `encode_cursor`; BadCursor when it is not one,
    or was made for another ordering."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        direction, key, pk = payload["d"], payload["o"], int(payload["pk"])
        value = model._meta.get_field(ordering.field).to_python(payload["v"])
    except (ValueError, TypeError, KeyError, binascii.Error, ValidationError, UnicodeDecodeError) as exc:
        raise BadCursor(_("This page link is broken or out of date; start again from the first page.")) from exc
    if direction not in ("next", "prev") or key != ordering.key or value is None:
        raise BadCursor(_("This page link was made for another sort order; start again from the first page."))
    return direction, value, pk


def _after(ordering: Ordering, value, pk, *, reverse: bool) -> Q:
    """Rows strictly after (value, pk) in the ordering (before it when `reverse`). Written as
    `col <= v AND (col < v OR pk < p)` rather than the plain OR, so the index on (col, pk) bounds
    the scan instead of filtering it from the top."""
    descending = ordering.descending != reverse
    f = ordering.field
    if descending:
        return Q(**{f"{f}__lte": value}) & (Q(**{f"{f}__lt": value}) | Q(pk__lt=pk))
    return Q(**{f"{f}__gte": value}) & (Q(**{f"{f}__gt": value}) | Q(pk__gt=pk))


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None


def keyset_page(queryset, *, ordering: Ordering, size: int, cursor: str | None = None) -> KeysetPage:
    """One page of `queryset` in `ordering`, starting after `cursor` (or before it, for a
    "previous" cursor). Reads `size + 1` rows, whatever the depth."""
    if not cursor:
        rows = list(queryset.order_by(*ordering.order_by())[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(rows, encode_cursor(ordering, rows[-1], direction="next") if more else None, None)
    direction, value, pk = decode_cursor(queryset.model, ordering, cursor)
    if direction == "next":
        rows = list(
            queryset.filter(_after(ordering, value, pk, reverse=False)).order_by(*ordering.order_by())[: size + 1]
        )
        more = len(rows) > size
        rows = rows[:size]
        return KeysetPage(
            rows,
            encode_cursor(ordering, rows[-1], direction="next") if more else None,
            encode_cursor(ordering, rows[0], direction="prev") if rows else None,
        )
    rows = list(
        queryset.filter(_after(ordering, value, pk, reverse=True)).order_by(*ordering.order_by(reverse=True))[
            : size + 1
        ]
    )
    more = len(rows) > size
    rows = list(reversed(rows[:size]))
    return KeysetPage(
        rows,
        encode_cursor(ordering, rows[-1], direction="next") if rows else None,
        encode_cursor(ordering, rows[0], direction="prev") if more else None,
    )


# --- The API ------------------------------------------------------------------------------------
class KeysetPagination:
    """DRF pagination by cursor for large lists (the orders API). `?cursor=` comes from the
    `next` / `previous` links; `?limit=` sets the page size (up to MAX_LIMIT); `?ordering=` is one
    of the view's `ordering_fields`, optionally with "-". `?page=` and `?offset=` are refused
    with a 400 that says what to use instead, rather than being ignored. `count` is bounded or
    estimated (`count_exact` says which). A view with `count_from_plan = True` has a filtered
    list's count estimated by the planner when it expects more than COUNT_LIMIT rows
    (`planned_count`): for lists scoped through a join, where a bounded count is the slow part."""

    page_size = 50
    MAX_LIMIT = 200
    default_ordering = "-created_at"
    display_page_controls = False

    def _ordering(self, request, view) -> Ordering:
        from rest_framework.exceptions import ValidationError as ApiValidationError

        allowed = set(getattr(view, "ordering_fields", None) or [self.default_ordering.lstrip("-")])
        text = request.query_params.get("ordering") or self.default_ordering
        selective = getattr(view, "selective_filters", ())
        ordering = Ordering.parse(text, sort_matches=any(request.query_params.get(name) for name in selective))
        if "," in text or ordering.field not in allowed:
            raise ApiValidationError(
                {
                    "ordering": [
                        _("Order by one of: %(fields)s (add “-” for descending).")
                        % {"fields": ", ".join(sorted(allowed))}
                    ]
                }
            )
        return ordering

    def _limit(self, request) -> int:
        from rest_framework.exceptions import ValidationError as ApiValidationError

        text = request.query_params.get("limit")
        if not text:
            return self.page_size
        try:
            limit = int(text)
        except ValueError:
            limit = 0
        if not 1 <= limit <= self.MAX_LIMIT:
            raise ApiValidationError({"limit": [_("A page holds 1 to %(n)s rows.") % {"n": self.MAX_LIMIT}]})
        return limit

    def paginate_queryset(self, queryset, request, view=None):
        from rest_framework.exceptions import ValidationError as ApiValidationError

        for name in ("page", "offset"):
            if name in request.query_params:
                raise ApiValidationError(
                    {
                        name: [
                            _(
                                "This list is paged by cursor: follow the “next” and “previous” links "
                                "(the cursor parameter); page numbers and offsets are not supported."
                            )
                        ]
                    }
                )
        self.request = request
        self.ordering = self._ordering(request, view)
        try:
            self.page = keyset_page(
                queryset, ordering=self.ordering, size=self._limit(request), cursor=request.query_params.get("cursor")
            )
        except BadCursor as exc:
            raise ApiValidationError({"cursor": exc.messages}) from exc
        counter = planned_count if getattr(view, "count_from_plan", False) else bounded_count
        self.count = counter(queryset)
        return self.page.rows

    def _link(self, cursor):
        from rest_framework.utils.urls import remove_query_param, replace_query_param

        if cursor is None:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, "cursor", cursor) if cursor else remove_query_param(url, "cursor")

    def get_paginated_response(self, data):
        from rest_framework.response import Response

        return Response(
            {
                "count": self.count.value,
                "count_exact": self.count.exact,
                "count_estimated": self.count.estimated,
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "count_exact", "count_estimated", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "description": "Rows in the list: exact when count_exact, else a floor or an estimate.",
                },
                "count_exact": {"type": "boolean"},
                "count_estimated": {"type": "boolean"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The page after (or before) the one that gave this cursor.",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {self.MAX_LIMIT}.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.MAX_LIMIT},
            },
            {
                "name": "ordering",
                "required": False,
                "in": "query",
                "description": "One field of the list, with '-' for descending.",
                "schema": {"type": "string"},
            },
        ]

    def to_html(self):
        return ""

    def get_results(self, data):
        return data["results"]


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """The API's default page (limit/offset) with a ceiling: `?limit=` larger than MAX_LIMIT gets
    MAX_LIMIT rows (DRF caps it), so no limit can ask the database for more than a page, or for a
    number its LIMIT cannot hold."""

    max_limit = 500
    max_offset = 10**12  # far past any table; beyond it the database's OFFSET overflows

    def get_offset(self, request):
        return min(super().get_offset(request), self.max_offset)
