"""PostgreSQL timestamps loaded by psycopg's C loader, on every connection (issue 17).

Django loads each timestamptz through a Python subclass of psycopg's pure-Python loader, which
takes psycopg's value and sets its zone to the connection's: about 3 µs a value, on every
query (a request's rows, a list page's, a search page's). When Django's zone for the database
and the session's TimeZone are both UTC, as Django sets the session on connecting, psycopg's C
loader gives the same values with the same tzinfo object in a tenth of the time.

The loader registered here is still Django's class, so Django's per-cursor check of the
loader's zone (DatabaseWrapper.create_cursor) keeps working; only its `load` is the C one, and
only for a cursor whose session is in UTC when the cursor reads: under any other TimeZone it
loads exactly as Django's does.
"""

from datetime import UTC
from functools import cache

from django.db.backends.signals import connection_created


def _c_timestamptz_loader():
    """psycopg's C loader for timestamptz, or None where psycopg runs without its C build."""
    import psycopg
    from psycopg.pq import Format

    oid = psycopg.postgres.types["timestamptz"].oid
    loader = psycopg.adapters.get_loader(oid, Format.TEXT)
    python_loader = psycopg.types.datetime.TimestamptzLoader
    return None if loader is python_loader else (oid, loader)


@cache
def _loader_class(c_loader):
    from django.db.backends.postgresql.psycopg_any import BaseTzLoader

    class UTCLoader(BaseTzLoader):
        timezone = UTC  # what Django's create_cursor compares with the connection's zone

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            # Django's own load (the Python loader's, then the zone set) stays the fallback.
            if self._timezone is UTC:  # the session's TimeZone, read as the cursor is made
                self.load = c_loader(oid, context).load

    return UTCLoader


def use_c_timestamps(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or connection.timezone is not UTC:
        return
    found = _c_timestamptz_loader()
    if found is None:
        return
    oid, c_loader = found
    connection.connection.adapters.register_loader(oid, _loader_class(c_loader))


def connect() -> None:
    connection_created.connect(use_c_timestamps, dispatch_uid="lockbox_c_timestamps")
