"""Each API endpoint of SPEC section 5: the happy path and each refusal."""

import pytest
from rest_framework.test import APIClient

from audit_app.models import AuditRecord


def test_token_auth_and_me(world):
    client = APIClient()
    bad = client.post(
        "/api/v1/auth/token/", {"username": "admin@contoso.example", "password": "x"}, format="json"
    )
    assert bad.status_code == 400
    token = client.post(
        "/api/v1/auth/token/",
        {"username": "admin@contoso.example", "password": "lockbox-demo"},
        format="json",
    ).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me == {
        "username": "admin@contoso.example",
        "email": "admin@contoso.example",
        "tenant": "contoso",
        "tenant_name": "Contoso",
        "tenant_kind": "customer",
        "groups": ["Global Administrator"],
    }
    assert APIClient().get("/api/v1/me/").status_code == 401


def test_the_token_endpoint_is_throttled(world, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import ScopedRateThrottle

    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth-token": "3/min"})
    client = APIClient()
    body = {"username": "admin@contoso.example", "password": "guess"}
    codes = [client.post("/api/v1/auth/token/", body).status_code for _ in range(5)]
    assert codes == [400, 400, 400, 429, 429]
    cache.clear()


def test_lockbox_setting_get_and_put(world, api):
    admin = api(world.admin)
    assert admin.get("/api/v1/settings/lockbox/").json()["enabled"] is True
    response = admin.put("/api/v1/settings/lockbox/", {"enabled": False}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["enabled"], body["available"], body["updated_by"]) == (
        False,
        True,
        "admin@contoso.example",
    )
    assert (
        admin.put("/api/v1/settings/lockbox/", {"enabled": "perhaps"}, format="json").status_code
        == 400
    )
    assert (
        admin.put("/api/v1/settings/lockbox/", {"enabled": "true"}, format="json").status_code
        == 400
    )
    assert admin.put("/api/v1/settings/lockbox/", {}, format="json").status_code == 400
    assert (
        api(world.approver)
        .put("/api/v1/settings/lockbox/", {"enabled": True}, format="json")
        .status_code
        == 403
    )
    fabrikam = api(world.fabrikam_admin).put(
        "/api/v1/settings/lockbox/", {"enabled": True}, format="json"
    )
    assert fabrikam.status_code == 400 and "not available" in fabrikam.json()["detail"]
    assert api(world.engineer).get("/api/v1/settings/lockbox/").status_code == 404


def test_the_whole_flow_over_the_api(world, api):
    engineer, manager, approver = api(world.engineer), api(world.manager), api(world.approver)
    ticket = engineer.post(
        "/api/v1/tickets/",
        {"tenant": "contoso", "title": "VPN drops", "description": "d"},
        format="json",
    )
    assert ticket.status_code == 201
    ticket = ticket.json()
    assert (
        ticket["number"] == f"TKT-{ticket['id']:06d}"
        and ticket["tenant"] == "contoso"
        and ticket["status"] == "open"
    )
    pc = world.contoso_pcs[0].pk
    created = engineer.post(
        "/api/v1/requests/",
        {"ticket": ticket["id"], "cloud_pcs": [pc], "reason": "VPN logs", "duration_minutes": 30},
        format="json",
    )
    assert created.status_code == 201, created.json()
    request_id = created.json()["id"]
    assert created.json()["status"] == "pending_internal" and created.json()["tenant"] == "contoso"
    assert (
        manager.post(
            f"/api/v1/requests/{request_id}/approve/", {"comment": "ok"}, format="json"
        ).json()["status"]
        == "pending_customer"
    )
    approved = approver.post(
        f"/api/v1/requests/{request_id}/approve/", {"comment": "go"}, format="json"
    ).json()
    assert approved["status"] == "approved" and approved["window_ends_at"]
    assert [(d["stage"], d["actor"], d["comment"]) for d in approved["decisions"]] == [
        ("internal", "manager@provider.example", "ok"),
        ("customer", "approver@contoso.example", "go"),
    ]
    assert [p["id"] for p in engineer.get("/api/v1/cloud-pcs/").json()["results"]] == [pc]
    assert engineer.get(f"/api/v1/cloud-pcs/{pc}/").json()["name"] == world.contoso_pcs[0].name
    assert (
        "cpu_percent" in engineer.get(f"/api/v1/cloud-pcs/{pc}/diagnostics/").json()["diagnostics"]
    )
    assert engineer.post(f"/api/v1/cloud-pcs/{pc}/restart/").json()["last_restarted_at"]
    other = world.contoso_pcs[1].pk
    assert engineer.post(f"/api/v1/cloud-pcs/{other}/restart/").status_code == 403
    actions = AuditRecord.objects.filter(request_id=request_id, operation="OperatorAction")
    assert sorted(actions.values_list("details__action", flat=True)) == [
        "diagnostics",
        "restart",
        "view",
    ]
    again = approver.post(f"/api/v1/requests/{request_id}/approve/", format="json")
    assert again.status_code == 409 and "approved" in again.json()["detail"]
    revoked = api(world.admin).post(
        f"/api/v1/requests/{request_id}/revoke/", {"comment": "enough"}, format="json"
    )
    assert revoked.json()["status"] == "revoked"
    assert engineer.get(f"/api/v1/cloud-pcs/{pc}/").status_code == 403
    closed = engineer.post(f"/api/v1/tickets/{ticket['id']}/close/")
    assert closed.json()["status"] == "completed"
    assert engineer.post(f"/api/v1/tickets/{ticket['id']}/close/").status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"cloud_pcs": [1], "reason": "r"}, "ticket"),
        ({"ticket": 1, "cloud_pcs": [], "reason": "r"}, "cloud_pcs"),
        ({"ticket": 1, "cloud_pcs": ["x"], "reason": "r"}, "cloud_pcs"),
        ({"ticket": 1, "cloud_pcs": [1], "reason": ""}, "reason"),
        ({"ticket": 1, "cloud_pcs": [1], "reason": "r", "duration_minutes": 5}, "duration_minutes"),
        (
            {"ticket": 1, "cloud_pcs": [1], "reason": "r", "duration_minutes": 9999},
            "duration_minutes",
        ),
    ],
)
def test_bad_request_bodies_are_400_by_field(world, api, body, field):
    response = api(world.engineer).post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_request_filters(world, api, make_request):
    a = make_request()
    b = make_request(world.northwind, stage="pending_customer")
    manager = api(world.manager)
    ids = lambda q: [r["id"] for r in manager.get("/api/v1/requests/", q).json()["results"]]  # noqa: E731
    assert ids({"tenant": "northwind"}) == [b.pk]
    assert ids({"status": "pending_internal"}) == [a.pk]
    assert ids({"ticket": a.ticket_id}) == [a.pk]
    assert ids({"requester": "engineer@provider.example"}) == [b.pk, a.pk]
    assert ids({"created_after": "2999-01-01T00:00:00Z"}) == []
    assert manager.get("/api/v1/requests/", {"status": "bogus"}).status_code == 400


def test_tickets_need_a_known_customer_tenant(world, api):
    engineer = api(world.engineer)
    assert (
        engineer.post(
            "/api/v1/tickets/", {"tenant": "provider-support", "title": "t"}, format="json"
        ).status_code
        == 400
    )
    assert (
        engineer.post(
            "/api/v1/tickets/", {"tenant": "nope", "title": "t"}, format="json"
        ).status_code
        == 400
    )
    assert (
        engineer.post("/api/v1/tickets/", {"tenant": "contoso"}, format="json").status_code == 400
    )
    assert (
        api(world.admin)
        .post("/api/v1/tickets/", {"tenant": "contoso", "title": "t"}, format="json")
        .status_code
        == 403
    )


def test_retention_policies_over_the_api(world, api):
    admin = api(world.admin)
    created = admin.post(
        "/api/v1/audit/retention-policies/",
        {
            "name": "Ops",
            "record_types": ["Windows365CustomerLockbox"],
            "duration": "P3Y",
            "priority": 7,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert (
        admin.patch(
            f"/api/v1/audit/retention-policies/{pk}/", {"duration": "P5Y"}, format="json"
        ).json()["duration"]
        == "P5Y"
    )
    full = {"name": "Ops2", "duration": "P1Y", "priority": 8, "operations": ["OperatorAction"]}
    assert (
        admin.put(f"/api/v1/audit/retention-policies/{pk}/", full, format="json").json()["name"]
        == "Ops2"
    )
    assert (
        admin.post(
            "/api/v1/audit/retention-policies/",
            {"name": "x", "duration": "P2Y", "priority": 1},
            format="json",
        ).status_code
        == 400
    )
    assert (
        admin.post(
            "/api/v1/audit/retention-policies/",
            {"name": "y", "duration": "P1Y", "priority": 8},
            format="json",
        ).status_code
        == 400
    )
    assert api(world.auditor).get("/api/v1/audit/retention-policies/").json()[0]["id"] == pk
    assert api(world.auditor).delete(f"/api/v1/audit/retention-policies/{pk}/").status_code == 403
    assert admin.delete(f"/api/v1/audit/retention-policies/{pk}/").status_code == 204
    ops = list(AuditRecord.objects.order_by("seq").values_list("operation", "result"))
    assert ops == [
        ("RetentionPolicyCreated", "success"),
        ("RetentionPolicyUpdated", "success"),
        ("RetentionPolicyUpdated", "success"),
        ("RetentionPolicyDeleted", "failure"),  # the Audit Reader's refused attempt
        ("RetentionPolicyDeleted", "success"),
    ]


def test_schema_and_offline_docs(world, client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/requests/{id}/approve/" in schema.content
    assert b"pending_customer" in schema.content and b"RequestAutoApproved" in schema.content
    docs = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower()


@pytest.mark.parametrize("value", ["3.402823466e+38", "99999999999999999999", "1.5", "-3"])
def test_id_filters_refuse_what_is_not_an_id(world, api, value):
    """Found by schemathesis: a float past 64 bits overflowed the database (500)."""
    assert api(world.manager).get("/api/v1/requests/", {"ticket": value}).status_code == 400
    assert api(world.admin).get("/api/v1/audit/records/", {"request": value}).status_code == 400


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("manager", "/api/v1/requests/99999999999999999999/"),
        ("engineer", "/api/v1/tickets/99999999999999999999/"),
        ("engineer", "/api/v1/cloud-pcs/99999999999999999999/"),
        ("admin", "/api/v1/audit/records/99999999999999999999/"),
        ("admin", "/api/v1/audit/retention-policies/99999999999999999999/"),
        ("admin", "/api/v1/webhooks/99999999999999999999/"),
        ("admin", "/requests/99999999999999999999/"),
        ("admin", "/audit/records/99999999999999999999/"),
    ],
)
def test_an_id_beyond_64_bits_is_a_404(world, api, client, who, path):
    user = getattr(world, who)
    if path.startswith("/api/"):
        assert api(user).get(path).status_code == 404
    else:
        client.force_login(user)
        assert client.get(path).status_code == 404


def test_the_api_answers_in_utc_though_the_browser_names_its_zone(world, api, make_request):
    """The page's tz cookie rides along on a browser's API calls; the API's dates stay UTC."""
    access_request = make_request(stage="pending_customer")
    client = api(world.approver)
    client.cookies["tz"] = "America/New_York"
    body = client.get(f"/api/v1/requests/{access_request.pk}/").json()
    assert body["created_at"].endswith("Z") and body["expires_at"].endswith("Z")
