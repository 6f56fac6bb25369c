"""Issue 17: on PostgreSQL every connection loads timestamptz with psycopg's C loader when the
session is in UTC (lockbox_site/db_timestamps.py). The values must be exactly Django's: same
instant, same tzinfo object; under any other session TimeZone, Django's own behaviour."""

from datetime import UTC

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="psycopg's loaders are PostgreSQL's"
)

VALUES = [
    "2026-12-05 13:20:01.123456+00",
    "2026-12-05 13:20:01+00",
    "2026-12-05 13:20:01.5+05:30",
    "2026-03-29 01:30:00-09:30",
    "1970-01-01 00:00:00+00",
    "0001-01-01 00:00:00+00",
    "2000-02-29 12:00:00.000001+14",
    "9999-12-31 23:59:59.999999+00",
]
SQL = "SELECT v::timestamptz FROM unnest(%s::text[]) AS v"


def _django_loads(values):
    """What Django's own loader gives on this connection, as it stands."""
    raw = connection.connection.cursor()
    register_tzloader(connection.timezone, raw)
    raw.execute(SQL, [values])
    return [row[0] for row in raw.fetchall()]


def _ours(values):
    with connection.cursor() as cursor:
        cursor.execute(SQL, [values])
        return [row[0] for row in cursor.fetchall()]


def test_the_connection_loads_timestamps_in_c_and_as_django_does(db):
    assert psycopg.pq.__impl__ in ("c", "binary")  # the C build is what requirements.txt pins
    loaded = _ours(VALUES)
    assert loaded == _django_loads(VALUES)
    assert all(value.tzinfo is UTC for value in loaded)
    with connection.cursor() as cursor:
        oid = psycopg.postgres.types["timestamptz"].oid
        loader = cursor.cursor.adapters.get_loader(oid, psycopg.pq.Format.TEXT)(oid, cursor.cursor)
    c_loader = psycopg.adapters.get_loader(oid, psycopg.pq.Format.TEXT)  # psycopg's C one
    assert c_loader is not psycopg.types.datetime.TimestamptzLoader
    assert isinstance(getattr(loader.load, "__self__", None), c_loader)


def test_under_another_session_time_zone_it_loads_as_django_does(db):
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Kolkata'")
    values = VALUES[:-1]  # the last overflows in Kolkata, for Django's loader as for ours
    try:
        loaded = _ours(values)
        assert loaded == _django_loads(values)
        assert [v.tzinfo for v in loaded] == [v.tzinfo for v in _django_loads(values)]
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
