"""An operator action's rows as plain SQL gives them, made into the ORM's instances: the grant
(the columns an action and its pages read; the rest deferred, as .only() would) and its Cloud
PC. Shared by the action's Python path (sessions.py) and its one-statement PostgreSQL path
(operate_in_database.py)."""

from django.db import DEFAULT_DB_ALIAS, connections

from tenants_app.models import CloudPC

from ..models import AccessRequest


def _columns(model, names=None) -> list[str]:
    fields = model._meta.concrete_fields
    return [field.column for field in fields if names is None or field.name in names]


PC_COLUMNS = _columns(CloudPC)
# What an action and its callers read of the grant (its id for the record, the window the page
# counts down); the instance defers the rest, as .only() would, and the row stays short.
GRANT_COLUMNS = _columns(
    AccessRequest,
    ("id", "ticket", "tenant", "requester", "status", "window_starts_at", "window_ends_at"),
)

_CONVERTERS: dict = {}


def _converted(model, row, names, connection):
    """Values as the ORM gives them (JSON decoded, SQLite's datetimes parsed): the same
    converters the ORM's compiler applies, looked up once per model, columns and backend."""
    key = (model, tuple(names), connection.vendor)
    if key not in _CONVERTERS:
        fields = [field for field in model._meta.concrete_fields if field.column in names]
        columns = [field.get_col(model._meta.db_table) for field in fields]
        _CONVERTERS[key] = [
            (col, connection.ops.get_db_converters(col) + col.get_db_converters(connection))
            for col in columns
        ]
    out = []
    for (col, converters), value in zip(_CONVERTERS[key], row, strict=True):
        for converter in converters:
            value = converter(value, col, connection)
        out.append(value)
    return out


# The caller's connection, looked up once: each use of the `connection` proxy is a lookup in
# the thread's connections (issue 17).
def grant_from_row(row, connection=None) -> AccessRequest:
    connection = connection or connections[DEFAULT_DB_ALIAS]
    values = _converted(AccessRequest, row, GRANT_COLUMNS, connection)
    return AccessRequest.from_db(connection.alias, GRANT_COLUMNS, values)


def cloud_pc_from_row(row, connection=None) -> CloudPC:
    connection = connection or connections[DEFAULT_DB_ALIAS]
    values = _converted(CloudPC, row, PC_COLUMNS, connection)
    return CloudPC.from_db(connection.alias, PC_COLUMNS, values)
