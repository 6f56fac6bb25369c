"""The SIEM export (SPEC 13): every line an OCSF 1.5.0 API Activity event that the OCSF schema,
as pydantic-ocsf ships it, accepts, with nothing outside the schema but `unmapped`."""

import json

import pytest
from ocsf.v1_5_0.events import ApiActivity
from pydantic import BaseModel

from audit_app.models import AuditRecord
from requests_app import services


def _lines(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson"
    text = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in text.splitlines()]


def _no_extras(model: BaseModel, path="event") -> None:
    """pydantic-ocsf allows unknown fields; a field the schema does not know is a mistake."""
    assert not model.model_extra, f"{path}: not in the OCSF schema: {sorted(model.model_extra)}"
    for name in type(model).model_fields:
        value = getattr(model, name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel) and name != "unmapped":
                _no_extras(item, f"{path}.{name}")


def _validated(event: dict) -> ApiActivity:
    model = ApiActivity.model_validate(event)
    _no_extras(model)
    return model


@pytest.fixture
def story(world, make_request, api):
    """A request approved by the customer, an operator's actions under it (one refused), and a
    denied request."""
    approved = make_request(stage="approved")
    engineer = api(world.engineer)
    pc = world.contoso_pcs[0]
    assert engineer.get(f"/api/v1/cloud-pcs/{pc.pk}/").status_code == 200
    assert engineer.post(f"/api/v1/cloud-pcs/{pc.pk}/restart/").status_code == 200
    assert engineer.get(f"/api/v1/cloud-pcs/{world.contoso_pcs[1].pk}/").status_code == 403
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk)
    return approved, denied


def test_every_record_is_a_valid_ocsf_api_activity(world, api, story):
    approved, denied = story
    events = _lines(api(world.admin).get("/api/v1/audit/records/export/?format=ocsf"))
    records = list(AuditRecord.objects.filter(tenant=world.contoso).order_by("created_at", "id"))
    assert [e["metadata"]["uid"] for e in events] == [str(r.pk) for r in records]
    for event, record in zip(events, records, strict=True):
        model = _validated(event)
        assert model.class_uid == 6003 and model.category_uid == 6
        assert event["api"]["operation"] == record.operation
        assert event["metadata"]["tenant_uid"] == "contoso"
        assert event["unmapped"]["hash"] == record.hash
        if record.request_id is not None:
            assert event["metadata"]["correlation_uid"] == str(record.request_id)
    by_op = {}
    for event in events:
        by_op.setdefault(event["api"]["operation"], []).append(event)
    [approval] = by_op["RequestApproved"]
    assert (approval["activity_id"], approval["type_uid"]) == (3, 600303)
    assert approval["actor"]["user"]["name"] == world.approver.username
    assert approval["metadata"]["correlation_uid"] == str(approved.pk)
    assert approval["unmapped"]["details"]["jws"]  # the signed decision travels along
    assert [e["activity_id"] for e in by_op["RequestCreated"]] == [1, 1]
    assert by_op["RequestDenied"][0]["metadata"]["correlation_uid"] == str(denied.pk)
    operator = by_op["OperatorAction"]
    assert [(e["activity_id"], e["status_id"]) for e in operator] == [(2, 1), (3, 1), (2, 2)]
    assert operator[2]["severity_id"] == 3 and "grant" in operator[2]["status_detail"]
    assert operator[0]["resources"] == [{"type": "CloudPC", "uid": str(world.contoso_pcs[0].pk)}]


def test_the_search_filters_narrow_it_and_tenants_stay_apart(world, api, story):
    approved, _ = story
    admin = api(world.admin)
    one = _lines(admin.get(f"/api/v1/audit/records/export/?format=ocsf&request={approved.pk}"))
    assert one and {e["metadata"]["correlation_uid"] for e in one} == {str(approved.pk)}
    assert _lines(api(world.auditor).get("/api/v1/audit/records/export/?format=ocsf"))
    northwind = _lines(api(world.northwind_admin).get("/api/v1/audit/records/export/?format=ocsf"))
    assert all(e["metadata"]["tenant_uid"] == "northwind" for e in northwind)
    refused = api(world.approver).get("/api/v1/audit/records/export/?format=ocsf")
    assert refused.status_code == 403
    assert api(world.admin).get("/api/v1/audit/records/export/?format=xml").status_code == 400
