"""The Django admin: what a customer must see goes through the audited services; the rest is
read-only. Staff here are provider staff: a superuser of the provider tenant."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from audit_app.models import AuditRecord
from requests_app.models import Webhook
from tenants_app.models import Tenant, User

GA = "Global Administrator"
APPROVER = "Customer Lockbox Access Approver"
READER = "Audit Reader"


@pytest.fixture
def staff(world):
    return User.objects.create_superuser(
        "ops@provider.example", "ops@provider.example", "x-Staff-Pass-91", tenant=world.provider
    )


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def _user_form(user, groups, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "groups": [Group.objects.get(name=name).pk for name in groups],
        "user_permissions": [],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "tenant": user.tenant_id,
    }
    data.update(changes)
    return data


def _roles(user):
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def test_changing_groups_in_the_admin_is_audited_in_the_users_tenant(world, staff_client):
    url = f"/admin/tenants_app/user/{world.approver.pk}/change/"
    response = staff_client.post(url, _user_form(world.approver, [GA]))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _roles(world.approver) == [GA]
    records = list(
        AuditRecord.objects.filter(operation__in=["RoleAssigned", "RoleRemoved"]).order_by("seq")
    )
    assert [(r.operation, r.details) for r in records] == [
        ("RoleAssigned", {"user": "approver@contoso.example", "role": GA}),
        ("RoleRemoved", {"user": "approver@contoso.example", "role": APPROVER}),
    ]
    for record in records:
        assert record.tenant_id == world.contoso.pk
        assert record.record_type == "CustomerLockboxSettings"
        assert (record.actor, record.actor_type) == ("ops@provider.example", "provider")
        assert (record.object_type, record.object_id) == ("User", "approver@contoso.example")


def test_the_admin_cannot_remove_a_tenants_last_global_admin(world, staff_client):
    url = f"/admin/tenants_app/user/{world.admin.pk}/change/"
    response = staff_client.post(url, _user_form(world.admin, [READER], first_name="Changed"))
    assert response.status_code == 200
    assert "last Global Administrator" in response.content.decode()
    assert _roles(world.admin) == [GA]
    assert User.objects.get(pk=world.admin.pk).first_name == "Ada"  # nothing of the save kept
    assert not AuditRecord.objects.exists()


def test_the_admin_refuses_a_role_of_the_other_kind(world, staff_client):
    url = f"/admin/tenants_app/user/{world.auditor.pk}/change/"
    response = staff_client.post(url, _user_form(world.auditor, [READER, "Support Engineer"]))
    assert response.status_code == 200
    assert "is not a role in a customer tenant" in response.content.decode()
    assert _roles(world.auditor) == [READER]


def test_a_users_tenant_cannot_be_changed_in_the_admin(world, staff_client):
    url = f"/admin/tenants_app/user/{world.admin.pk}/change/"
    response = staff_client.post(url, _user_form(world.admin, [GA], tenant=world.fabrikam.pk))
    assert response.status_code == 302
    assert User.objects.get(pk=world.admin.pk).tenant_id == world.contoso.pk


def test_other_user_fields_still_save_without_a_role_record(world, staff_client):
    url = f"/admin/tenants_app/user/{world.auditor.pk}/change/"
    response = staff_client.post(url, _user_form(world.auditor, [READER], last_name="Reader"))
    assert response.status_code == 302
    assert User.objects.get(pk=world.auditor.pk).last_name == "Reader"
    assert not AuditRecord.objects.exists()


def test_staff_still_add_users_in_the_admin(world, staff_client):
    response = staff_client.post(
        "/admin/tenants_app/user/add/",
        {
            "username": "new@contoso.example",
            "password1": "x-New-Pass-4242",
            "password2": "x-New-Pass-4242",
            "usable_password": "true",
            "tenant": world.contoso.pk,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = User.objects.get(username="new@contoso.example")
    assert created.tenant_id == world.contoso.pk and _roles(created) == []


def test_the_admin_unlock_action_is_audited(world, staff_client):
    locked = Client()
    for _ in range(5):
        locked.post("/login/", {"username": "approver@contoso.example", "password": "wrong"})
    response = staff_client.post(
        "/admin/tenants_app/user/",
        {"action": "unlock_sign_in", "_selected_action": [world.approver.pk]},
    )
    assert response.status_code == 302
    record = AuditRecord.objects.get(operation="SignInUnlocked")
    assert (record.tenant_id, record.actor, record.object_id) == (
        world.contoso.pk,
        "ops@provider.example",
        "approver@contoso.example",
    )
    good = {"username": "approver@contoso.example", "password": "lockbox-demo"}
    assert locked.post("/login/", good).status_code == 302


def _tenant_form(tenant, **changes):
    data = {
        "name": tenant.name,
        "slug": tenant.slug,
        "kind": tenant.kind,
        "plan": tenant.plan,
        "compliance_addon": "on" if tenant.compliance_addon else "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_changing_a_plan_in_the_admin_is_audited(world, staff_client):
    url = f"/admin/tenants_app/tenant/{world.fabrikam.pk}/change/"
    response = staff_client.post(url, _tenant_form(world.fabrikam, plan="E5"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Tenant.objects.get(pk=world.fabrikam.pk).plan == "E5"
    record = AuditRecord.objects.get(operation="TenantPlanChanged")
    assert record.tenant_id == world.fabrikam.pk
    assert record.record_type == "CustomerLockboxSettings"
    assert (record.actor, record.object_type, record.object_id) == (
        "ops@provider.example",
        "Tenant",
        "fabrikam",
    )
    assert record.details == {
        "old_value": {"plan": "E3", "compliance_addon": False},
        "new_value": {"plan": "E5", "compliance_addon": False},
        "lockbox_available": True,
    }


def test_removing_the_add_on_in_the_admin_is_audited(world, staff_client):
    url = f"/admin/tenants_app/tenant/{world.northwind.pk}/change/"
    data = _tenant_form(world.northwind)
    data.pop("compliance_addon")
    assert staff_client.post(url, data).status_code == 302
    record = AuditRecord.objects.get(operation="TenantPlanChanged")
    assert record.tenant_id == world.northwind.pk
    assert record.details["old_value"] == {"plan": "E3", "compliance_addon": True}
    assert record.details["new_value"] == {"plan": "E3", "compliance_addon": False}
    assert record.details["lockbox_available"] is False


def test_renaming_a_tenant_writes_no_plan_record(world, staff_client):
    url = f"/admin/tenants_app/tenant/{world.contoso.pk}/change/"
    response = staff_client.post(
        url, _tenant_form(world.contoso, name="Contoso Ltd", kind="provider")
    )
    assert response.status_code == 302
    tenant = Tenant.objects.get(pk=world.contoso.pk)
    assert (tenant.name, tenant.kind) == ("Contoso Ltd", "customer")  # kind is read-only
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize(
    "model",
    [
        "requests_app/ticket",
        "requests_app/accessrequest",
        "requests_app/outboxmessage",
        "requests_app/webhook",
        "requests_app/decision",
        "auth/group",
        "axes/accessattempt",
        "tenants_app/user",
    ],
)
def test_what_only_services_change_cannot_be_added_or_deleted_in_the_admin(
    world, staff_client, make_request, model
):
    from django.apps import apps

    access_request = make_request(stage="approved")
    Webhook.objects.create(
        tenant=world.contoso, url="https://hooks.example/x", secret="s", created_by=world.admin
    )
    for _ in range(2):
        Client().post("/login/", {"username": "approver@contoso.example", "password": "wrong"})
    model_class = apps.get_model(*model.split("/"))
    obj = model_class.objects.order_by("pk").first()
    assert obj is not None, model
    assert access_request.pk
    if model != "tenants_app/user":  # staff create users (with no role); roles come after
        assert staff_client.get(f"/admin/{model}/add/").status_code == 403
    delete = staff_client.post(f"/admin/{model}/{obj.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert model_class.objects.filter(pk=obj.pk).exists()
    if model != "tenants_app/user":
        page = staff_client.get(f"/admin/{model}/{obj.pk}/change/")
        assert page.status_code == 200 and b'name="_save"' not in page.content


def test_deactivating_a_user_in_the_admin_is_audited_and_ends_their_tokens(world, staff_client):
    from knox.models import AuthToken

    AuthToken.objects.create(world.approver)
    response = staff_client.post(
        "/admin/tenants_app/user/",
        {"action": "deactivate_users", "_selected_action": [world.approver.pk]},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=world.approver.pk).is_active is False
    assert not AuthToken.objects.filter(user=world.approver).exists()
    [record] = AuditRecord.objects.filter(operation="UserDeactivated")
    assert (record.tenant_id, record.actor, record.object_id) == (
        world.contoso.pk,
        "ops@provider.example",
        world.approver.username,
    )
    staff_client.post(
        "/admin/tenants_app/user/",
        {"action": "reactivate_users", "_selected_action": [world.approver.pk]},
    )
    assert User.objects.get(pk=world.approver.pk).is_active is True
    assert (
        AuditRecord.objects.filter(operation="UserReactivated", tenant=world.contoso).count() == 1
    )


def test_the_admin_cannot_deactivate_the_last_global_administrator(world, staff_client):
    staff_client.post(
        "/admin/tenants_app/user/",
        {"action": "deactivate_users", "_selected_action": [world.northwind_admin.pk]},
    )
    assert User.objects.get(pk=world.northwind_admin.pk).is_active is True
    assert not AuditRecord.objects.filter(operation="UserDeactivated").exists()


def test_the_active_flag_is_not_edited_on_the_user_form(world, staff_client):
    url = f"/admin/tenants_app/user/{world.approver.pk}/change/"
    data = _user_form(world.approver, [APPROVER])
    del data["is_active"]  # an unticked checkbox
    assert staff_client.post(url, data).status_code == 302
    assert User.objects.get(pk=world.approver.pk).is_active is True


def test_staff_cannot_mint_an_api_token_for_a_customer_in_the_admin(world, staff_client):
    from knox.models import AuthToken

    assert staff_client.get("/admin/knox/authtoken/add/").status_code == 403
    response = staff_client.post(
        "/admin/knox/authtoken/add/", {"user": world.approver.pk, "expiry": ""}
    )
    assert response.status_code == 403
    assert not AuthToken.objects.exists()
    AuthToken.objects.create(world.approver)
    assert staff_client.get("/admin/knox/authtoken/").status_code == 200
