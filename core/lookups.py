"""An integer outside the column's range matches no row, in every lookup a client can reach.

Django already answers "no match" for `exact`, `gt`, `lt`... on an integer field when the value
is outside the database's range (`IntegerFieldOverflow`), but not for `in`, nor for a foreign
key (`site=<id>`, `site__in=[...]`). On SQLite the driver then raises OverflowError for an id
such as 10**20, which a client can put in any filter (`?sites=...`), multiple-choice form field
or reference, and the request ends in a 500. These lookups drop such values before the query is
built: no row can hold them, so the answer (an empty or smaller result) is the same one
PostgreSQL gives, and the client's form or filter reports its usual "not a valid choice".

Installed once from `CoreConfig.ready()`, through Django's `register_lookup`.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models.fields.related import ForeignObject
from django.db.models.fields.related_lookups import RelatedExact, RelatedIn
from django.db.models.lookups import In


def _integer_range(output_field, connection) -> tuple[int | None, int | None] | None:
    """The (min, max) the column behind `output_field` can hold, or None when not an integer."""
    field = output_field
    path_infos = getattr(field, "path_infos", None)
    if path_infos:  # a relation: the range is its target column's
        field = path_infos[-1].target_fields[-1]
    if not isinstance(field, models.IntegerField):  # AutoField and BigAutoField included
        return None
    try:
        return connection.ops.integer_field_range(field.get_internal_type())
    except KeyError:
        return None


def _outside(value, bounds) -> bool:
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    low, high = bounds
    return (low is not None and value < low) or (high is not None and value > high)


class _DropOutOfRangeValues:
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            bounds = _integer_range(self.lhs.output_field, connection)
            if bounds is not None:
                self.rhs = [value for value in self.rhs if not _outside(value, bounds)]
        return super().process_rhs(compiler, connection)


class IntegerIn(_DropOutOfRangeValues, In):
    pass


class RangeCheckedRelatedIn(_DropOutOfRangeValues, RelatedIn):
    pass


class RangeCheckedRelatedExact(RelatedExact):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            bounds = _integer_range(self.lhs.output_field, connection)
            if bounds is not None and _outside(self.rhs, bounds):
                raise EmptyResultSet
        return super().process_rhs(compiler, connection)


def install() -> None:
    models.IntegerField.register_lookup(IntegerIn)
    ForeignObject.register_lookup(RangeCheckedRelatedIn)
    ForeignObject.register_lookup(RangeCheckedRelatedExact)
