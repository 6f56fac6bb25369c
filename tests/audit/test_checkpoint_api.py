"""`GET /api/v1/audit/checkpoints/` and `/latest/`: the tenant's signed checkpoints (SPEC 11)."""

from datetime import timedelta

import pytest

from audit_app import signing
from audit_app.checkpoints import checkpoint_issue
from audit_app.models import AuditCheckpoint
from tests.audit.conftest import T0

LIST = "/api/v1/audit/checkpoints/"
LATEST = "/api/v1/audit/checkpoints/latest/"


@pytest.fixture
def checkpoints(world, write_record):
    """Three checkpoints of Contoso, one of Northwind."""
    made = []
    for minutes in range(3):
        write_record(world.contoso, at=T0 + timedelta(minutes=minutes))
        made.append(checkpoint_issue(tenant_id=world.contoso.pk))
    write_record(world.northwind)
    checkpoint_issue(tenant_id=world.northwind.pk)
    return made


def test_the_tenants_checkpoints_newest_first(world, api, checkpoints):
    for user in (world.admin, world.auditor):
        response = api(user).get(LIST)
        assert response.status_code == 200
        items = response.json()["results"]
        assert [item["seq"] for item in items] == [c.seq for c in reversed(checkpoints)]
        newest = items[0]
        assert newest == {
            "kind": "checkpoint",
            "tenant": "contoso",
            "tenant_id": world.contoso.pk,
            "seq": checkpoints[-1].seq,
            "hash": checkpoints[-1].hash,
            "issued_at": checkpoints[-1].issued_at.isoformat(),
            "previous": checkpoints[-1].previous,
            "jws": checkpoints[-1].jws,
        }
        assert items[-1]["previous"] is None
        assert signing.verify(newest["jws"])["seq"] == newest["seq"]


def test_pages_follow_a_cursor(world, api, checkpoints):
    client = api(world.auditor)
    first = client.get(LIST, {"page_size": 2}).json()
    assert [item["seq"] for item in first["results"]] == [checkpoints[2].seq, checkpoints[1].seq]
    second = client.get(first["next"]).json()
    assert [item["seq"] for item in second["results"]] == [checkpoints[0].seq]
    assert second["next"] is None


def test_the_latest_checkpoint(world, api, checkpoints):
    response = api(world.auditor).get(LATEST)
    assert response.status_code == 200
    assert response.json()["jws"] == checkpoints[-1].jws


def test_no_checkpoint_yet_is_a_json_404(world, api):
    assert not AuditCheckpoint.objects.filter(tenant=world.contoso).exists()
    response = api(world.admin).get(LATEST)
    assert response.status_code == 404
    assert response.json() == {"detail": "No checkpoint has been issued for this tenant yet."}


def test_another_tenants_checkpoints_are_never_visible(world, api, checkpoints):
    client = api(world.northwind_admin)
    items = client.get(LIST).json()["results"]
    assert [item["tenant"] for item in items] == ["northwind"]
    assert client.get(LATEST).json()["tenant"] == "northwind"
    empty = api(world.fabrikam_admin)
    assert empty.get(LIST).json()["results"] == []
    assert empty.get(LATEST).status_code == 404


@pytest.mark.parametrize("who", ["approver", "engineer", "manager"])
def test_only_those_who_search_the_audit_log_see_checkpoints(world, api, checkpoints, who):
    client = api(getattr(world, who))
    for path in (LIST, LATEST):
        response = client.get(path)
        assert response.status_code == 403, (path, response.content)
        assert "detail" in response.json()


def test_signed_out_is_a_401(api, checkpoints):
    assert api().get(LIST).status_code == 401


def test_the_schema_describes_both_operations(world, api):
    schema = api(world.admin).get("/api/v1/schema/", {"format": "json"}).json()
    listing = schema["paths"][LIST]["get"]
    latest = schema["paths"][LATEST]["get"]
    assert set(listing["responses"]) >= {"200", "403"}
    assert set(latest["responses"]) >= {"200", "403", "404"}
    ref = latest["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert component["properties"]["previous"].get("nullable") is True
    assert set(component["required"]) >= {"kind", "tenant", "seq", "hash", "issued_at", "jws"}
