"""The audit search API's page statement, compiled once per filter shape (issue 17).

A first page of the search spent more CPU in the ORM (nine filters applied, the cursor's
ordering, position and slice, then the SQL compiled) than the database spent running the
statement. For one shape of search (which filters are set, how many values each list holds,
the cursor's direction, offset and page size) the SQL is always the same; only the values
differ. So the page's statement is built once per shape by the very same code as before (the
selector's tenant rule, the FilterSet's filters, DRF's CursorPagination), with marker values,
and each later search of that shape substitutes its own values into the ORM's SQL.

Nothing is taken on trust: the first search of a shape also builds its statement the ORM's way
with its real values and uses the compiled one only if substituting gives exactly the ORM's SQL
and parameters; and every search uses a statement only if its own queryset is the selector's
tenant rule and nothing more (_tenant_rule), the tenant's id taken from that queryset. A shape this cannot express (free text and actor prefixes, whose values the ORM
rewrites into LIKE patterns) runs through the ORM as before.
"""

import threading
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.lookups import Exact
from django_filters import utils
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend

from lockbox_site.compiled import MARKERS

from .models import AuditRecord
from .selectors import TENANT_ORDER, tenant_audit_records

# The filters whose value reaches the SQL as a parameter as it is, after its column's own
# preparation (exact, range and OR-of-exact lookups), and that column.
COMPILABLE = {
    "start": "created_at",
    "end": "created_at",
    "record_type": "record_type",
    "operation": "operation",
    "result": "result",
    "object_id": "object_id",
    "request": "request_id",
}

# Shapes are few in practice, but offsets and page sizes come from the client: keep the most
# recently used statements only.
CACHE_SIZE = 256
_STATEMENTS: OrderedDict = OrderedDict()
_NOT_COMPILABLE = object()
_LOCK = threading.Lock()


class AuditSearchBackend(DjangoFilterBackend):
    """django-filter's backend; for the list action the filtered queryset is a SearchPage, so
    the page's statement is compiled once per shape. The export (and any other action) gets the
    filtered QuerySet, as the web page does."""

    def filter_queryset(self, request, queryset, view):
        if getattr(view, "action", None) != "list":
            return super().filter_queryset(request, queryset, view)
        filterset = self.get_filterset(request, queryset, view)
        if not filterset.is_valid() and self.raise_exception:
            raise utils.translate_validation(filterset.errors)
        return SearchPage(filterset)


class SearchPage:
    """The filtered search as CursorPagination sees a queryset: it records what is done to it
    (values, order_by, the cursor's position filter, the page's slice) and runs it when listed.

    Anything else it is asked to do fails loudly rather than guess."""

    model = AuditRecord

    def __init__(self, filterset, ops=()):
        self.filterset = filterset
        self.ops = tuple(ops)

    def _with(self, op):
        return SearchPage(self.filterset, (*self.ops, op))

    def values(self, *names):
        return self._with(("values", names, None))

    def order_by(self, *names):
        return self._with(("order_by", names, None))

    def filter(self, **kwargs):
        ((lookup, value),) = kwargs.items()  # the cursor's one position
        return self._with(("filter", lookup, value))

    def __getitem__(self, page):
        if not isinstance(page, slice) or page.step is not None:
            raise TypeError("a search page is a slice")
        return self._with(("slice", (page.start, page.stop), None))

    def __iter__(self):
        return iter(self._rows())

    def queryset(self):
        """The same page as an ordinary QuerySet (what the ORM would run)."""
        values = (value for kind, _, value in self.ops if kind == "filter")
        return _replay(self.filterset.qs, self.ops, values)

    def _rows(self) -> list:
        shape = self._shape()
        if shape is None:
            return list(self.queryset())
        key, slots = shape
        with _LOCK:  # threaded workers: a statement is never evicted between lookup and use
            statement = _STATEMENTS.get(key)
            if statement is not None:
                _STATEMENTS.move_to_end(key)
        if statement is None:
            statement = self._compile(slots)
            with _LOCK:
                _STATEMENTS[key] = statement
                while len(_STATEMENTS) > CACHE_SIZE:
                    _STATEMENTS.popitem(last=False)
        if statement is _NOT_COMPILABLE:
            return list(self.queryset())
        return statement.run([value for _, value, _ in slots])

    def _shape(self):
        """(the statement's key, its slots: (kind, value, model field) each), or None."""
        tenant_id = _tenant_rule(self.filterset.queryset)
        if tenant_id is None:
            return None
        if not any(kind == "values" for kind, _, _ in self.ops):
            return None  # instances, not rows: the ORM's iterator builds them
        slots = [("tenant", tenant_id, _field("tenant_id"))]
        key = [connection.vendor]
        for name, value in self.filterset.form.cleaned_data.items():
            if value in EMPTY_VALUES:
                continue  # django-filter skips an empty filter
            if name not in COMPILABLE:
                return None
            filter_ = self.filterset.filters[name]
            field = _field(COMPILABLE[name])
            if isinstance(value, list):
                # An OR of one equality per distinct value, in the set's order (django-filter's
                # MultipleChoiceFilter): the values are substituted in that same order.
                distinct = list(set(value))
                if any(v == getattr(filter_, "null_value", None) for v in distinct):
                    return None
                key.append((name, "list", len(distinct)))
                slots.append(("list", distinct, field))
            else:
                key.append((name, type(value).__name__))
                slots.append((name, value, field))
        for kind, arg, value in self.ops:
            if kind == "filter":
                key.append(("op", kind, arg))
                slots.append(("op", value, _field(arg.split("__")[0])))
            else:
                key.append(("op", kind, arg))
        return tuple(key), slots

    def _compile(self, slots):
        markers = _Markers()
        marked = [markers.like(kind, value, field) for kind, value, field in slots]
        cleaned = dict(self.filterset.form.cleaned_data)
        names = [name for name, value in cleaned.items() if value not in EMPTY_VALUES]
        for name, marker in zip(names, marked[1 : 1 + len(names)], strict=True):
            cleaned[name] = marker
        queryset = self.filterset.apply(tenant_audit_records(marked[0]), cleaned)
        queryset = _replay(queryset, self.ops, iter(marked[1 + len(names) :]))
        statement = _Statement.of(queryset, marked, slots)
        if statement is None:
            return _NOT_COMPILABLE
        # The first search of a shape proves the statement: its own values substituted must be
        # exactly what the ORM builds for them.
        expected = _sql(self.queryset())
        if expected is None or statement.bind([v for _, v, _ in slots]) != expected:
            return _NOT_COMPILABLE
        return statement


def _tenant_rule(queryset):
    """The tenant id when the search starts from exactly tenant_audit_records(tenant_id), as
    the selector gives it to one who may search (one equality on the tenant, newest first);
    None for anything else (.none() for those who may not, or a rule the statement was not
    built from), which the ORM then runs. The statement is keyed by shape, not by user: this
    check is what ties each search's statement to the selector's rule for its caller."""
    query = queryset.query
    where = query.where
    if query.is_empty() or where.negated or len(where.children) != 1:
        return None
    lookup = where.children[0]
    if not isinstance(lookup, Exact) or not isinstance(lookup.rhs, int):
        return None
    if getattr(lookup.lhs, "target", None) is not _field("tenant"):
        return None
    if tuple(query.order_by) != TENANT_ORDER or query.distinct or query.is_sliced:
        return None
    return lookup.rhs


def _field(name):
    return AuditRecord._meta.get_field(name)


def _sql(queryset):
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except Exception:  # EmptyResultSet and the like: leave it to the ORM
        return None
    return sql, list(params)


class _Markers:
    """Values no search sends, each distinct, of the type the real value has."""

    def __init__(self):
        self.n = 0

    def _next(self, like):
        self.n += 1
        if isinstance(like, datetime) or like is None:
            return datetime(1001, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.n)
        if isinstance(like, bool):
            raise TypeError("no boolean markers")
        if isinstance(like, int):
            return MARKERS[self.n % len(MARKERS)] - 1000 * self.n
        return f"\x1fmarker-{self.n}\x1f"

    def like(self, kind, value, field):
        if kind == "list":
            return [self._next(v) for v in value]
        if kind == "op" and isinstance(value, str) and field.get_internal_type() == "DateTimeField":
            return self._next(None)  # the cursor's position: a datetime as text
        return self._next(value)


class _Statement:
    """The ORM's SQL for one shape, and where each slot's values go in its parameters."""

    @classmethod
    def of(cls, queryset, marked, slots):
        compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            sql, params = compiler.as_sql()
        except Exception:
            return None
        self = cls()
        self.sql, self.params = sql, list(params)
        self.fields = []
        self.positions = []
        for marker, (kind, _, field) in zip(marked, slots, strict=True):
            each = marker if kind == "list" else [marker]
            try:
                prepared = [field.get_db_prep_value(m, connection, prepared=False) for m in each]
            except (TypeError, ValueError, ValidationError):  # not this column's kind of value
                return None
            where = [[i for i, p in enumerate(self.params) if p == m] for m in prepared]
            if not all(where):
                return None
            if kind == "list":
                # One parameter per value, in the order the filter put them.
                if any(len(w) != 1 for w in where):
                    return None
                self.positions.append(sorted(w[0] for w in where))
            else:
                self.positions.append(where[0])
            self.fields.append((kind, field))
        taken = [i for where in self.positions for i in where]
        if len(taken) != len(set(taken)):
            return None
        query = queryset.query
        self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        select = compiler.select[: compiler.col_count]
        if len(self.names) != len(select):
            return None
        self.converters = compiler.get_converters([s[0] for s in select])
        self.compiler = compiler
        return self

    def bind(self, values):
        params = list(self.params)
        for (kind, field), where, value in zip(self.fields, self.positions, values, strict=True):
            if kind == "list":
                # The positions in statement order take the values in the filter's order.
                for i, v in zip(where, value, strict=True):
                    params[i] = field.get_db_prep_value(v, connection, prepared=False)
            else:
                prepared = field.get_db_prep_value(value, connection, prepared=False)
                for i in where:
                    params[i] = prepared
        return self.sql, params

    def run(self, values) -> list[dict]:
        sql, params = self.bind(values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in rows]


def _replay(queryset, ops, filter_values):
    """Apply the recorded page operations; each "filter" takes the next of filter_values (the
    search's own values, or the markers a compiled statement is built with)."""
    filter_values = iter(filter_values)
    for kind, arg, _ in ops:
        if kind == "values":
            queryset = queryset.values(*arg)
        elif kind == "order_by":
            queryset = queryset.order_by(*arg)
        elif kind == "filter":
            queryset = queryset.filter(**{arg: next(filter_values)})
        else:
            queryset = queryset[arg[0] : arg[1]]
    return queryset
