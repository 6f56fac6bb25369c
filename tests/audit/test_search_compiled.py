"""The audit search's page statement, compiled once per filter shape (audit_app/search.py):
for every filter, list lengths, page sizes and cursor directions it sends exactly the ORM's SQL
with the search's own values, answers what the ORM's path answers, and never mixes tenants."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_filters.rest_framework import DjangoFilterBackend

from audit_app import search
from audit_app.apis import AuditRecordViewSet
from tests.audit.conftest import T0

PATH = "/api/v1/audit/records/"


@pytest.fixture(autouse=True)
def fresh_statements():
    search._STATEMENTS.clear()
    yield
    search._STATEMENTS.clear()


@pytest.fixture
def log(world, write_record, days):
    kinds = [
        ("Windows365CustomerLockbox", "OperatorAction", "success"),
        ("CustomerLockboxSettings", "LockboxSettingChanged", "failure"),
        ("Windows365CustomerLockbox", "RequestCreated", "success"),
    ]
    written = []
    for n in range(12):
        record_type, operation, result = kinds[n % 3]
        for tenant in (world.contoso, world.northwind):
            written.append(
                write_record(
                    tenant,
                    # Three records share each moment: the cursor's offset within a position.
                    at=days(1 + n // 3),
                    record_type=record_type,
                    operation=operation,
                    result=result,
                    object_id=str(n % 4),
                    details={"n": n, "request_id": 40 + n % 2},
                )
            )
    return written


def _searched(client, url, query=None):
    """The response and the SQL of the one statement that read the audit table."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200, response.content
    sql = [q["sql"] for q in captured.captured_queries if "audit_app_auditrecord" in q["sql"]]
    assert len(sql) == 1, sql
    return response, sql[0]


def _orm(client, url, query=None):
    """The same search through django-filter's own backend: the ORM builds every statement."""
    backends = AuditRecordViewSet.filter_backends
    AuditRecordViewSet.filter_backends = [DjangoFilterBackend]
    try:
        return _searched(client, url, query)
    finally:
        AuditRecordViewSet.filter_backends = backends


def _compiled_statements():
    return [s for s in search._STATEMENTS.values() if s is not search._NOT_COMPILABLE]


def _iso(days):
    return (T0 + timedelta(days=days)).isoformat()


QUERIES = [
    {},
    {"start": _iso(2)},
    {"end": _iso(3)},
    {"start": _iso(2), "end": _iso(3)},
    {"start": "2026-01-02T05:30:00+05:30", "end": "2026-01-04T00:00:00-18:56"},
    {"record_type": "Windows365CustomerLockbox"},
    {"record_type": ["Windows365CustomerLockbox", "CustomerLockboxSettings"]},
    {"operation": ["RequestCreated", "OperatorAction", "RequestCreated"]},  # a value twice
    {"operation": ["LockboxSettingChanged", "OperatorAction", "RequestCreated"]},
    {"result": "failure"},
    {"object_id": "2"},
    {"request": "41"},
    {
        "start": _iso(1),
        "end": _iso(4),
        "record_type": "Windows365CustomerLockbox",
        "operation": ["OperatorAction", "RequestCreated"],
        "result": "success",
        "object_id": "0",
        "request": "40",
        "page_size": "2",
    },
    {"record_type": "Windows365CustomerLockbox", "page_size": "500"},
    {"start": _iso(9)},  # nothing matches
]


@pytest.mark.parametrize("query", QUERIES)
def test_each_shape_is_compiled_and_sends_the_orms_own_statement(world, api, log, query):
    client = api(world.auditor)
    first, first_sql = _searched(client, PATH, query)  # builds and proves the statement
    assert len(_compiled_statements()) == 1
    again, sql = _searched(client, PATH, query)  # runs it
    stock, stock_sql = _orm(client, PATH, query)
    assert sql == first_sql == stock_sql
    assert again.content == first.content == stock.content


def test_a_walk_forwards_and_back_is_the_orms(world, api, log):
    """Cursor pages: positions, offsets within a position, and reversed (previous) pages."""
    client = api(world.admin)
    url, forward = f"{PATH}?page_size=2&record_type=Windows365CustomerLockbox", []
    while url:
        response, sql = _searched(client, url)
        stock, stock_sql = _orm(client, url)
        assert (response.content, sql) == (stock.content, stock_sql)
        forward.append(response.json())
        url = response.json()["next"]
    assert len(forward) == 4  # eight contoso records of the type, two a page
    url, backward = forward[-1]["previous"], 1
    while url:
        response, sql = _searched(client, url)
        stock, stock_sql = _orm(client, url)
        assert (response.content, sql) == (stock.content, stock_sql)
        url, backward = response.json()["previous"], backward + 1
    assert backward == 4
    assert _compiled_statements()  # the cursor's shapes were compiled, not left to the ORM


def test_one_statement_serves_every_tenant_each_its_own_records(world, api, log):
    query = {"record_type": "Windows365CustomerLockbox", "start": _iso(1)}
    contoso = api(world.auditor).get(PATH, query).json()["results"]
    northwind = api(world.northwind_admin).get(PATH, query).json()["results"]
    assert len(_compiled_statements()) == 1
    assert contoso and {r["tenant"] for r in contoso} == {world.contoso.slug}
    assert northwind and {r["tenant"] for r in northwind} == {world.northwind.slug}
    assert {r["id"] for r in contoso}.isdisjoint(r["id"] for r in northwind)
    again = api(world.auditor).get(PATH, query).json()["results"]
    assert again == contoso


@pytest.mark.parametrize("query", [{"q": "OperatorAction"}, {"actor": "admin@"}])
def test_free_text_and_actor_prefixes_stay_with_the_orm(world, api, log, query):
    client = api(world.auditor)
    response, sql = _searched(client, PATH, query)
    stock, stock_sql = _orm(client, PATH, query)
    assert (response.content, sql) == (stock.content, stock_sql)
    assert not search._STATEMENTS


def test_a_statement_that_does_not_prove_itself_is_never_used(world, api, log, monkeypatch):
    """The first search of a shape checks the compiled statement against the ORM's for its own
    values: a compiled statement built from another rule than the selector's (here one that
    also drops failures) is caught there, and the shape stays with the ORM."""
    from audit_app.selectors import tenant_audit_records

    monkeypatch.setattr(
        search, "tenant_audit_records", lambda t: tenant_audit_records(t).filter(result="success")
    )
    client = api(world.auditor)
    for _ in range(2):
        response, sql = _searched(client, PATH, {"request": "41"})
        stock, stock_sql = _orm(client, PATH, {"request": "41"})
        assert (response.content, sql) == (stock.content, stock_sql)
        assert "failure" in response.content.decode()
    assert list(search._STATEMENTS.values()) == [search._NOT_COMPILABLE]


def test_a_statement_serves_only_searches_that_start_from_the_selectors_rule(
    world, api, log, monkeypatch
):
    """Statements are kept by shape, not by user: each search checks that its queryset is the
    selector's tenant rule and nothing more before it uses one. A caller whose queryset were
    narrower (here: successes only) gets the ORM's answer, not the statement another built."""
    from audit_app import apis
    from audit_app.selectors import audit_records_for_user

    client, query = api(world.auditor), {"record_type": "Windows365CustomerLockbox"}
    assert client.get(PATH, query).status_code == 200
    assert len(_compiled_statements()) == 1
    monkeypatch.setattr(
        apis, "audit_records_for_user", lambda u: audit_records_for_user(u).exclude(result="x")
    )
    response, sql = _searched(client, PATH, query)
    stock, stock_sql = _orm(client, PATH, query)
    assert (response.content, sql) == (stock.content, stock_sql)
    assert "NOT" in sql.upper()


def test_those_who_may_not_search_get_nothing_without_a_statement(world, api, log):
    response = api(world.approver).get(PATH, {"record_type": "Windows365CustomerLockbox"})
    assert response.status_code == 200 and response.json()["results"] == []
    assert not search._STATEMENTS


def test_the_statements_kept_are_bounded(world, api, log, monkeypatch):
    monkeypatch.setattr(search, "CACHE_SIZE", 3)
    client = api(world.auditor)
    for size in range(1, 7):
        assert client.get(PATH, {"page_size": size}).status_code == 200
    assert len(search._STATEMENTS) == 3


def test_a_pages_rows_are_the_orms_values_to_the_time_zone_object(world, log):
    """The compiled page loads timestamps with psycopg's own loader on PostgreSQL: the rows
    are the ORM's values() rows, datetimes equal and in the very same tzinfo."""
    from django.http import QueryDict

    from audit_app.filters import AuditRecordFilter
    from audit_app.selectors import audit_records_for_user
    from audit_app.serializers import AuditRecordSerializer

    query = QueryDict("record_type=Windows365CustomerLockbox")
    filterset = AuditRecordFilter(query, queryset=audit_records_for_user(world.auditor))
    assert filterset.is_valid()
    page = (
        search.SearchPage(filterset)
        .values(*AuditRecordSerializer.ROW)
        .order_by("-created_at", "-id")[0:5]
    )
    stock = list(page.queryset())
    for _ in range(2):  # compiled and proved, then run
        rows = list(page)
        assert rows == stock
        for ours, theirs in zip(rows, stock, strict=True):
            assert ours["created_at"].tzinfo is theirs["created_at"].tzinfo
            assert type(ours["details"]) is type(theirs["details"])
    assert _compiled_statements()


@pytest.mark.parametrize("position", [b"p=notadate", b"p=2026-01-03+00%3A00%3A00", b"o=1&r=1"])
def test_a_handmade_cursor_is_answered_as_the_orm_answers_it(world, api, log, position):
    import base64

    client = api(world.auditor)
    query = {
        "cursor": base64.b64encode(position).decode(),
        "record_type": "Windows365CustomerLockbox",
    }
    for _ in range(2):
        ours = client.get(PATH, query)
        backends = AuditRecordViewSet.filter_backends
        AuditRecordViewSet.filter_backends = [DjangoFilterBackend]
        try:
            stock = client.get(PATH, query)
        finally:
            AuditRecordViewSet.filter_backends = backends
        assert (ours.status_code, ours.content) == (stock.status_code, stock.content)
