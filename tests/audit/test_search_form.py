"""Issue 14's audit search: a Result filter, actor by prefix in any case, a start after the end
refused on the form (and the API), a bounded count, friendly names with the exact value."""

import pytest

from audit_app.views import records as views


@pytest.fixture
def records(world, write_record, days):
    return [
        write_record(world.contoso, at=days(1), actor=world.approver, operation="RequestApproved",
                     object_type="AccessRequest", object_id="41"),
        write_record(world.contoso, at=days(2), actor=world.approver2, operation="RequestDenied",
                     object_type="AccessRequest", object_id="42"),
        write_record(world.contoso, at=days(3), actor=world.engineer, result="failure",
                     object_type="CloudPC", object_id="7", details={"cloud_pc": "CPC-CON-001"}),
    ]  # fmt: skip


def _ids(response):
    return sorted(row["id"] for row in response.json()["results"])


def test_result_filters_refused_attempts(world, api, records):
    response = api(world.admin).get("/api/v1/audit/records/", {"result": "failure"})
    assert _ids(response) == [records[2].pk]
    assert api(world.admin).get("/api/v1/audit/records/", {"result": "maybe"}).status_code == 400


def test_actor_matches_by_prefix_in_any_case(world, api, records):
    response = api(world.admin).get("/api/v1/audit/records/", {"actor": "APPROVER"})
    assert _ids(response) == [records[0].pk, records[1].pk]
    response = api(world.admin).get("/api/v1/audit/records/", {"actor": "Approver2@"})
    assert _ids(response) == [records[1].pk]


def test_a_start_after_the_end_is_an_error_on_the_form_and_in_the_api(world, api, client, records):
    query = {"start": "2026-03-05T00:00:00", "end": "2026-03-01T00:00:00"}
    response = api(world.admin).get("/api/v1/audit/records/", query)
    assert response.status_code == 400
    assert "The start is after the end" in str(response.json())
    client.force_login(world.admin)
    page = client.get("/audit/", query)
    assert page.status_code == 400
    assert "The start is after the end: swap them or change one." in page.content.decode()


def test_the_page_counts_matches_up_to_a_limit(world, client, records, monkeypatch):
    client.force_login(world.admin)
    assert "3 records match, newest first." in client.get("/audit/").content.decode()
    one = client.get("/audit/", {"operation": "RequestDenied"}).content.decode()
    assert "1 record matches, newest first." in one
    monkeypatch.setattr(views, "COUNT_LIMIT", 2)
    assert "More than 2 records match, newest first." in client.get("/audit/").content.decode()
    monkeypatch.setattr(views, "COUNT_LIMIT", 1000)
    assert "3 records match" in client.get("/audit/").content.decode()


def test_friendly_names_with_the_exact_value_and_named_linked_objects(world, client, records):
    client.force_login(world.admin)
    page = client.get("/audit/").content.decode()
    assert 'Request approved <code class="exact">RequestApproved</code>' in page
    assert 'Engineer action on a Cloud PC <code class="exact">OperatorAction</code>' in page
    assert '<a href="/requests/41/">Request 41</a>' in page
    assert "Cloud PC CPC-CON-001" in page


def test_searches_one_after_another_each_get_their_own_answer(world, api, records):
    """The form's fields are shared by every search (audit_app/filters.py): a refused search
    leaves nothing behind for the next one. (Nothing in the form writes to a field today, so
    this also passes without the sharing; the next test pins the sharing itself.)"""
    client = api(world.admin)
    assert client.get("/api/v1/audit/records/", {"result": "maybe"}).status_code == 400
    assert _ids(client.get("/api/v1/audit/records/", {"result": "failure"})) == [records[2].pk]
    assert client.get("/api/v1/audit/records/", {"actor": "a" * 201}).status_code == 400
    response = client.get("/api/v1/audit/records/", {"actor": "approver2"})
    assert _ids(response) == [records[1].pk]
    assert _ids(client.get("/api/v1/audit/records/")) == sorted(r.pk for r in records)


def test_each_form_has_its_own_field_list_over_shared_fields():
    from audit_app.filters import AuditRecordFilter
    from audit_app.models import AuditRecord

    first = AuditRecordFilter({}, queryset=AuditRecord.objects.none()).form
    second = AuditRecordFilter({}, queryset=AuditRecord.objects.none()).form
    assert first.fields is not second.fields
    assert first.fields["actor"] is second.fields["actor"]
    del first.fields["actor"]
    assert "actor" in second.fields
    assert "actor" in AuditRecordFilter({}, queryset=AuditRecord.objects.none()).form.fields
