"""`/api/v1/users/`: a Global Administrator manages their own tenant's roles and lockouts."""

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit_app.models import AuditRecord
from tenants_app.models import User
from tenants_app.roles import Cap, can

GA = "Global Administrator"
APPROVER = "Customer Lockbox Access Approver"
READER = "Audit Reader"


def _roles(user):
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def _role_records():
    return list(
        AuditRecord.objects.filter(
            operation__in=["RoleAssigned", "RoleRemoved"], result="success"
        ).order_by("seq")
    )


def _lock_out(username, password="wrong"):
    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": username, "password": password})
    return client


def test_a_global_admin_lists_the_users_of_their_own_tenant(world, api):
    response = api(world.admin).get("/api/v1/users/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    by_name = {row["username"]: row for row in body["results"]}
    assert set(by_name) == {
        "admin@contoso.example",
        "approver@contoso.example",
        "auditor@contoso.example",
        "approver2@contoso.example",
    }
    assert by_name["approver@contoso.example"] == {
        "id": world.approver.pk,
        "username": "approver@contoso.example",
        "display_name": "Avery Approver",
        "roles": [APPROVER],
        "is_active": True,
        "locked_out": False,
    }
    one = api(world.admin).get(f"/api/v1/users/{world.auditor.pk}/")
    assert one.status_code == 200 and one.json()["roles"] == [READER]


def test_display_name_falls_back_to_the_user_name(world, api):
    bare = User.objects.create_user("bare@contoso.example", tenant=world.contoso)
    row = api(world.admin).get(f"/api/v1/users/{bare.pk}/").json()
    assert row["display_name"] == "bare@contoso.example" and row["roles"] == []


@pytest.mark.parametrize("who", ["approver", "auditor", "engineer", "manager"])
def test_only_a_global_admin_may_manage_roles(world, api, who):
    client = api(getattr(world, who))
    target = world.auditor.pk
    assert client.get("/api/v1/users/").status_code == 403
    assert client.get(f"/api/v1/users/{target}/").status_code == 403
    put = client.put(f"/api/v1/users/{target}/roles/", {"roles": [GA]}, format="json")
    assert put.status_code == 403 and "detail" in put.json()
    assert client.post(f"/api/v1/users/{target}/unlock/").status_code == 403
    assert _roles(world.auditor) == [READER]
    assert _role_records() == []


def test_signed_out_callers_are_401(world, api):
    assert api().get("/api/v1/users/").status_code == 401
    assert (
        api().put(f"/api/v1/users/{world.auditor.pk}/roles/", {"roles": []}, format="json")
    ).status_code == 401


def test_another_tenants_user_is_a_404(world, api):
    client = api(world.northwind_admin)
    target = world.approver.pk
    assert client.get(f"/api/v1/users/{target}/").status_code == 404
    put = client.put(f"/api/v1/users/{target}/roles/", {"roles": [GA]}, format="json")
    assert put.status_code == 404
    assert client.post(f"/api/v1/users/{target}/unlock/").status_code == 404
    usernames = [row["username"] for row in client.get("/api/v1/users/").json()["results"]]
    assert usernames == ["admin@northwind.example"]
    assert _roles(world.approver) == [APPROVER]
    assert not AuditRecord.objects.exists()


def test_put_replaces_the_set_and_audits_each_role_in_the_users_tenant(world, api):
    response = api(world.admin).put(
        f"/api/v1/users/{world.approver.pk}/roles/", {"roles": [READER, GA]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["roles"] == [READER, GA]
    assert _roles(world.approver) == [READER, GA]
    records = _role_records()
    assert [(r.operation, r.details) for r in records] == [
        ("RoleAssigned", {"user": "approver@contoso.example", "role": READER}),
        ("RoleAssigned", {"user": "approver@contoso.example", "role": GA}),
        ("RoleRemoved", {"user": "approver@contoso.example", "role": APPROVER}),
    ]
    for record in records:
        assert record.tenant_id == world.contoso.pk
        assert record.record_type == "CustomerLockboxSettings"
        assert (record.object_type, record.object_id) == ("User", "approver@contoso.example")
        assert (record.actor, record.actor_type) == ("admin@contoso.example", "customer")
        assert record.client_ip == "127.0.0.1"
    fresh = User.objects.get(pk=world.approver.pk)
    assert can(fresh, Cap.MANAGE_ROLES)


def test_an_empty_list_removes_every_role(world, api):
    response = api(world.admin).put(
        f"/api/v1/users/{world.auditor.pk}/roles/", {"roles": []}, format="json"
    )
    assert response.status_code == 200 and response.json()["roles"] == []
    assert [(r.operation, r.details["role"]) for r in _role_records()] == [("RoleRemoved", READER)]


def test_an_unchanged_set_writes_no_record(world, api):
    response = api(world.admin).put(
        f"/api/v1/users/{world.auditor.pk}/roles/", {"roles": [READER, READER]}, format="json"
    )
    assert response.status_code == 200 and response.json()["roles"] == [READER]
    assert _role_records() == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"roles": None},
        {"roles": GA},
        {"roles": ["Root"]},
        {"roles": [{"name": GA}]},
        {"roles": ["Support Engineer"]},  # a provider role, in a customer tenant
        {"roles": [GA, "Support Manager"]},
    ],
)
def test_a_bad_body_is_a_400_with_the_field_named(world, api, body):
    response = api(world.admin).put(f"/api/v1/users/{world.auditor.pk}/roles/", body, format="json")
    assert response.status_code == 400
    assert "roles" in response.json()
    assert _roles(world.auditor) == [READER]
    assert _role_records() == []


def test_the_last_global_admin_cannot_remove_their_own_role(world, api):
    client = api(world.admin)
    url = f"/api/v1/users/{world.admin.pk}/roles/"
    response = client.put(url, {"roles": [APPROVER]}, format="json")
    assert response.status_code == 409
    assert "last Global Administrator" in response.json()["detail"]
    assert _roles(world.admin) == [GA]
    assert _role_records() == []


def test_with_a_second_admin_the_first_may_step_down(world, api):
    client = api(world.admin)
    promote = client.put(
        f"/api/v1/users/{world.approver.pk}/roles/", {"roles": [GA]}, format="json"
    )
    assert promote.status_code == 200
    step_down = client.put(
        f"/api/v1/users/{world.admin.pk}/roles/", {"roles": [APPROVER]}, format="json"
    )
    assert step_down.status_code == 200 and step_down.json()["roles"] == [APPROVER]
    assert _roles(world.admin) == [APPROVER]
    # No longer an administrator: the next call is refused.
    assert api(User.objects.get(pk=world.admin.pk)).get("/api/v1/users/").status_code == 403


def test_an_inactive_admin_does_not_count_as_the_remaining_one(world, api):
    other = User.objects.create_user("old@contoso.example", tenant=world.contoso, is_active=False)
    other.groups.add(*world.admin.groups.all())
    response = api(world.admin).put(
        f"/api/v1/users/{world.admin.pk}/roles/", {"roles": []}, format="json"
    )
    assert response.status_code == 409
    assert _roles(world.admin) == [GA]


def test_unlock_ends_a_lockout_and_is_audited(world, api):
    locked_client = _lock_out("approver@contoso.example")
    good = {"username": "approver@contoso.example", "password": "lockbox-demo"}
    assert locked_client.post("/login/", good).status_code == 429
    client = api(world.admin)
    row = client.get(f"/api/v1/users/{world.approver.pk}/").json()
    assert row["locked_out"] is True
    listed = {
        r["username"]: r["locked_out"] for r in client.get("/api/v1/users/").json()["results"]
    }
    assert listed == {
        "admin@contoso.example": False,
        "approver@contoso.example": True,
        "auditor@contoso.example": False,
        "approver2@contoso.example": False,
    }

    response = client.post(f"/api/v1/users/{world.approver.pk}/unlock/")
    assert response.status_code == 200 and response.json()["locked_out"] is False
    record = AuditRecord.objects.get(operation="SignInUnlocked")
    assert record.tenant_id == world.contoso.pk
    assert (record.actor, record.object_type, record.object_id) == (
        "admin@contoso.example",
        "User",
        "approver@contoso.example",
    )
    assert record.details == {"user": "approver@contoso.example", "addresses": ["127.0.0.1"]}
    assert locked_client.post("/login/", good).status_code == 302  # signs in again


def test_unlocking_a_user_who_is_not_locked_out_writes_nothing(world, api):
    response = api(world.admin).post(f"/api/v1/users/{world.approver.pk}/unlock/")
    assert response.status_code == 200 and response.json()["locked_out"] is False
    assert not AuditRecord.objects.filter(operation="SignInUnlocked").exists()


def test_a_lockout_ends_by_itself_after_the_cool_off(world, api, settings):
    _lock_out("approver@contoso.example")
    assert api(world.admin).get(f"/api/v1/users/{world.approver.pk}/").json()["locked_out"]
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME, tick=False):
        row = api(world.admin).get(f"/api/v1/users/{world.approver.pk}/").json()
    assert row["locked_out"] is False


def test_losing_every_role_revokes_the_users_tokens(world, api):
    from rest_framework.test import APIClient

    def sign_in(username):
        response = APIClient().post(
            "/api/v1/auth/token/",
            {"username": username, "password": "lockbox-demo"},
            format="json",
        )
        return response.json()["token"]

    approver_token, auditor_token = (
        sign_in(world.approver.username),
        sign_in(world.auditor.username),
    )
    admin = api(world.admin)
    # Losing one of two roles keeps the token; losing the last one revokes it.
    assert (
        admin.put(
            f"/api/v1/users/{world.auditor.pk}/roles/", {"roles": [READER, APPROVER]}, format="json"
        ).status_code
        == 200
    )
    assert (
        admin.put(
            f"/api/v1/users/{world.auditor.pk}/roles/", {"roles": [APPROVER]}, format="json"
        ).status_code
        == 200
    )
    assert (
        admin.put(
            f"/api/v1/users/{world.approver.pk}/roles/", {"roles": []}, format="json"
        ).status_code
        == 200
    )
    auditor = APIClient(HTTP_AUTHORIZATION=f"Token {auditor_token}")
    approver = APIClient(HTTP_AUTHORIZATION=f"Token {approver_token}")
    assert auditor.get("/api/v1/me/").status_code == 200
    assert approver.get("/api/v1/me/").status_code == 401
