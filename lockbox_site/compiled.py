"""QuerySets compiled to SQL once and run again with new values (issue 17).

Building a statement costs the ORM 0.5-0.9 ms of CPU, more than the database spends running
it, and the hot paths (sign-in by token or session, the transition's locking read, its
decisions) send the same few statements with different ids every time. A `Compiled` query is
written as an ordinary QuerySet, in which each value that varies is a marker number; the ORM
compiles it once per database vendor, and each run substitutes the values into the ORM's own
SQL and builds the instances (select_related included) the way the ORM's iterator does. So the
SQL stays the ORM's, with its joins, locks and visibility filters, and only its building is
skipped.
"""

from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models.query import get_related_populators

# Marker values: an id no real row has, each distinct, so the compiled parameters can be
# found by value (checked: each must occur in the compiled parameters).
MARKERS = tuple(-7_340_000_000 - n for n in range(8))


class Compiled:
    """`build(*markers)` returns the QuerySet; `rows(*values)` runs it with the values."""

    def __init__(self, build: Callable, slots: int = 1):
        self.build = build
        self.slots = slots
        self._by_vendor: dict[str, _Statement] = {}

    def _statement(self, connection) -> "_Statement":
        key = connection.vendor
        statement = self._by_vendor.get(key)
        if statement is None:
            statement = _Statement(self.build(*MARKERS[: self.slots]), MARKERS[: self.slots])
            self._by_vendor[key] = statement
        return statement

    def rows(self, *values) -> list:
        """The instances the QuerySet would give for these values."""
        if len(values) != self.slots:
            raise TypeError(f"expected {self.slots} values, got {len(values)}")
        # The connection once per statement, not through the `connection` proxy at each use.
        connection = connections[DEFAULT_DB_ALIAS]
        return self._statement(connection).run(values, connection)

    def first(self, *values):
        found = self.rows(*values)
        return found[0] if found else None


class _Statement:
    def __init__(self, queryset, markers):
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            self.sql, params = compiler.as_sql()
        except EmptyResultSet:  # .none(), or a filter nothing can match: no statement to send
            self.sql = None
            return
        self.params = list(params)
        self.positions = []
        for marker in markers:
            # A text column's lookup holds the marker as text.
            where = [i for i, value in enumerate(self.params) if value in (marker, str(marker))]
            if not where:
                raise ValueError(f"marker {marker} is not among the compiled parameters")
            self.positions.append(where)
        self.db = queryset.db
        select, klass_info = compiler.select, compiler.klass_info
        if queryset._known_related_objects:
            raise ValueError("known related objects are not supported")
        # Annotations become attributes of the instance, as the ORM's iterator sets them.
        self.annotations = tuple((compiler.annotation_col_map or {}).items())
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)
        self.converters = compiler.get_converters([s[0] for s in select[: compiler.col_count]])
        self.compiler = compiler

    def run(self, values, connection) -> list:
        if self.sql is None:
            return []
        params = list(self.params)
        for where, value in zip(self.positions, values, strict=True):
            for i in where:
                params[i] = value
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        found = []
        for row in rows:
            instance = self.model.from_db(self.db, self.init_list, row[self.start : self.end])
            for populator in self.populators:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found


def keep_prefetched(instance, name: str, rows: list) -> None:
    """Keep `rows` as `instance.<name>.all()`, where prefetch_related would have put them, so
    every later reader of the relation (checks, statements, the API's response) reuses them."""
    manager = getattr(instance, name)
    queryset = manager.get_queryset()
    field = getattr(manager, "field", None)  # a reverse foreign key: each row points back
    if field is not None and field.many_to_one:
        for row in rows:
            field.set_cached_value(row, instance)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset


def is_prefetched(instance, name: str) -> bool:
    return name in getattr(instance, "_prefetched_objects_cache", {})


_WRITES: dict = {}


def _insert_statement(model, connection):
    key = ("insert", model, connection.vendor)
    if key not in _WRITES:
        meta = model._meta
        auto = meta.pk if meta.pk.db_returning else None  # an id the database assigns
        fields = [f for f in meta.concrete_fields if f is not auto]
        sql = (
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)}"
            f" ({', '.join(connection.ops.quote_name(f.column) for f in fields)})"
            f" VALUES ({', '.join(['%s'] * len(fields))})"
        )
        if auto is not None:
            sql += f" RETURNING {connection.ops.quote_name(auto.column)}"
        _WRITES[key] = (sql, fields, auto)
    return _WRITES[key]


def insert(instance, *, after_update=None) -> None:
    """`instance.save()` of a new row, its statement built once per model: each field prepares
    its value as save() would (defaults, auto_now_add, JSON, time zones). For models without
    save() overrides or save signals, on the hot paths.

    `after_update=(other, field_names)`: update(other, field_names) first; on PostgreSQL both
    in one statement (a data-modifying WITH: one round trip less, issue 17)."""
    connection = connections[DEFAULT_DB_ALIAS]
    sql, fields, auto = _insert_statement(type(instance), connection)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    counted = None
    if after_update is not None and connection.vendor == "postgresql":
        other, field_names = after_update
        update_sql, update_params = _update_statement(other, field_names, connection)
        counted = other
        # The updated rows counted in the insert's RETURNING: the update must find its row.
        if auto is not None:  # the insert's own RETURNING (the new id) goes first
            sql = sql.rsplit(" RETURNING ", 1)[0]
        quoted = f"{connection.ops.quote_name(auto.column)}, " if auto is not None else ""
        sql = f"{sql} RETURNING {quoted}(SELECT count(*) FROM updated)"
        sql = f"WITH updated AS ({update_sql} RETURNING 1) {sql}"
        params = update_params + params
    elif after_update is not None:
        update(*after_update)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone() if auto is not None or counted is not None else None
    if counted is not None and row[-1] != 1:
        raise type(counted).DoesNotExist(
            f"{type(counted).__name__} {counted.pk} is gone; nothing updated."
        )
    if auto is not None:
        setattr(instance, auto.attname, row[0])
    instance._state.adding = False
    instance._state.db = connection.alias


def _update_statement(instance, field_names, connection) -> tuple[str, list]:
    model = type(instance)
    key = ("update", model, tuple(field_names), connection.vendor)
    if key not in _WRITES:
        meta, quote = model._meta, connection.ops.quote_name
        fields = [meta.get_field(name) for name in field_names]
        sql = (
            f"UPDATE {quote(meta.db_table)} SET"
            f" {', '.join(f'{quote(f.column)} = %s' for f in fields)}"
            f" WHERE {quote(meta.pk.column)} = %s"
        )
        _WRITES[key] = (sql, fields)
    sql, fields = _WRITES[key]
    params = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in fields]
    params.append(model._meta.pk.get_db_prep_value(instance.pk, connection))
    return sql, params


def update(instance, field_names) -> None:
    """`instance.save(update_fields=field_names)`, its statement built once per model and
    field list; like save(), it fails if the row is gone."""
    model, connection = type(instance), connections[DEFAULT_DB_ALIAS]
    sql, params = _update_statement(instance, field_names, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if cursor.rowcount != 1:
            raise model.DoesNotExist(f"{model.__name__} {instance.pk} is gone; nothing updated.")
