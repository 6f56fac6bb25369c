"""A relation's rows carried as one JSON column of another statement (issue 17).

A transition reads its request under a row lock and then the request's decisions and Cloud
PCs, one statement each; every statement costs a round trip and its CPU on both sides. A `Fold`
is such a relation written as a JSON array column (one array of column values per row, in the
relation's order) that the locking read selects beside the request, and turned back into the
model instances the ORM's own read would have built: every concrete field, the select_related
row (or None), the values converted as the database backend converts them (checked field by
field against the ORM's read in tests/hotpaths/test_folded_relations.py, on both databases).

Only fields whose JSON form converts back exactly are accepted; a model gaining another kind
of field fails at the statement's first build, not with a wrong value.
"""

import json
from datetime import UTC

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import F, Func, JSONField, Subquery
from django.db.models.functions import JSONArray
from django.utils.dateparse import parse_datetime

_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "SlugField",
    "TextField",
}


def _datetime(value, vendor):
    if value is None:
        return None
    # PostgreSQL writes a timestamptz as ISO 8601 in the session's zone (UTC); SQLite keeps
    # naive UTC text, which Django's SQLite backend parses and makes aware the same way.
    parsed = parse_datetime(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _json(value, vendor):
    # SQLite's json_array quotes a JSON column's text; PostgreSQL nests the jsonb value.
    return json.loads(value) if vendor == "sqlite" and isinstance(value, str) else value


def _boolean(value, vendor):
    return None if value is None else bool(value)  # SQLite's 0 and 1


_CONVERTERS = {"DateTimeField": _datetime, "JSONField": _json, "BooleanField": _boolean}


def _fields(model) -> list:
    fields = list(model._meta.concrete_fields)
    for field in fields:
        kind = field.get_internal_type()
        if kind not in _AS_IS and kind not in _CONVERTERS:
            raise ValueError(f"{model.__name__}.{field.name} ({kind}) cannot be folded")
    return fields


class _JsonbAgg(Func):
    """jsonb_agg(row ORDER BY ...) as a plain function: the ORM's JSONBAgg, an Aggregate, makes
    the subquery GROUP BY the relation's id (a row per related row, not one array)."""

    output_field = JSONField()

    def as_sql(self, compiler, connection, **extra_context):
        row, *order = self.get_source_expressions()
        sql, params = compiler.compile(row)
        keys = []
        for key in order:
            key_sql, key_params = compiler.compile(key)
            keys.append(key_sql)
            params = (*params, *key_params)
        ordered = f" ORDER BY {', '.join(keys)}" if keys else ""
        return f"JSONB_AGG({sql}{ordered})", params


class Fold:
    """`queryset(outer_ref)`: the relation's rows for the outer statement's row; `related`: one
    foreign key read with it (select_related); `order`: the relation's attnames to order by."""

    def __init__(self, queryset, model, *, related: str | None = None, order=()):
        self.queryset, self.model, self.related, self.order = queryset, model, related, order
        self.fields = _fields(model)
        self.related_field = model._meta.get_field(related) if related else None
        self.related_fields = _fields(self.related_field.related_model) if related else []

    def column(self, outer_ref) -> Subquery:
        """The JSON array column (compiled for the default connection's database)."""
        names = [F(f.attname) for f in self.fields]
        names += [F(f"{self.related}__{f.attname}") for f in self.related_fields]
        row = JSONArray(*names)
        if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
            rows = _JsonbAgg(row, *[F(name) for name in self.order])
        else:  # SQLite's json_group_array has no ORDER BY before 3.44: sorted in instances()
            rows = Func(row, function="json_group_array", output_field=JSONField())
        return Subquery(self.queryset(outer_ref).order_by().values(rows=rows))

    def instances(self, rows) -> list:
        connection = connections[DEFAULT_DB_ALIAS]
        vendor, alias = connection.vendor, connection.alias
        names = [f.attname for f in self.fields]
        split = len(names)
        found = []
        for row in rows or ():
            instance = self.model.from_db(alias, names, _convert(self.fields, row[:split], vendor))
            if self.related_field is not None:
                values = _convert(self.related_fields, row[split:], vendor)
                related = None
                if values[0] is not None:  # the LEFT JOIN found no row: None, as the ORM sets
                    model = self.related_field.related_model
                    related = model.from_db(alias, [f.attname for f in self.related_fields], values)
                self.related_field.set_cached_value(instance, related)
            found.append(instance)
        if vendor != "postgresql" and self.order:
            found.sort(key=lambda obj: tuple(getattr(obj, name) for name in self.order))
        return found


def _convert(fields, values, vendor) -> list:
    out = []
    for field, value in zip(fields, values, strict=True):
        converter = _CONVERTERS.get(field.get_internal_type())
        out.append(value if converter is None else converter(value, vendor))
    return out
