"""Tenant isolation: every endpoint, called by every role of another tenant, reveals nothing."""

import pytest

from audit_app.models import AuditRecord
from audit_app.policies import retention_policy_create


@pytest.fixture
def contoso_objects(world, make_request):
    access_request = make_request(stage="approved")
    policy = retention_policy_create(
        actor=world.admin, data={"name": "p", "duration": "P1Y", "priority": 1}
    )
    return {
        "request": access_request.pk,
        "pc": world.contoso_pcs[0].pk,
        "record": AuditRecord.objects.filter(tenant=world.contoso).first().pk,
        "policy": policy.pk,
    }


ENDPOINTS = [
    ("get", "/api/v1/requests/{request}/"),
    ("post", "/api/v1/requests/{request}/approve/"),
    ("post", "/api/v1/requests/{request}/deny/"),
    ("post", "/api/v1/requests/{request}/cancel/"),
    ("post", "/api/v1/requests/{request}/revoke/"),
    ("get", "/api/v1/cloud-pcs/{pc}/"),
    ("get", "/api/v1/cloud-pcs/{pc}/diagnostics/"),
    ("post", "/api/v1/cloud-pcs/{pc}/restart/"),
    ("get", "/api/v1/audit/records/{record}/"),
    ("get", "/api/v1/audit/retention-policies/{policy}/"),
    ("put", "/api/v1/audit/retention-policies/{policy}/"),
    ("patch", "/api/v1/audit/retention-policies/{policy}/"),
    ("delete", "/api/v1/audit/retention-policies/{policy}/"),
]
OUTSIDERS = ["northwind_admin", "fabrikam_admin"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize("who", OUTSIDERS)
def test_another_tenants_object_is_a_404(
    world, api, contoso_objects, method, path, who, django_user_model
):
    from django.contrib.auth.models import Group

    before = AuditRecord.objects.filter(tenant=world.contoso).count()
    users = [getattr(world, who)]
    # The same tenant's other roles, too: an approver and an auditor of Northwind.
    for group in ("Customer Lockbox Access Approver", "Audit Reader"):
        user = django_user_model.objects.create_user(
            f"{group[:5]}-{who}@x.example", tenant=users[0].tenant
        )
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        users.append(user)
    for user in users:
        response = getattr(api(user), method)(
            path.format(**contoso_objects), {"duration": "P1Y"}, format="json"
        )
        assert response.status_code == 404, (user, response.status_code, response.content)
        assert str(contoso_objects["request"]) not in response.content.decode().replace(
            path.format(**contoso_objects), ""
        )
    assert AuditRecord.objects.filter(tenant=world.contoso).count() == before


@pytest.mark.parametrize("who", OUTSIDERS)
def test_lists_show_nothing_of_another_tenant(world, api, contoso_objects, who):
    client = api(getattr(world, who))
    assert client.get("/api/v1/requests/").json()["results"] == []
    assert all(
        pc["tenant"] != "contoso" for pc in client.get("/api/v1/cloud-pcs/").json()["results"]
    )
    assert all(
        r["tenant"] != "contoso" for r in client.get("/api/v1/audit/records/").json()["results"]
    )
    assert client.get("/api/v1/audit/retention-policies/").json() == []
    assert client.get("/api/v1/requests/", {"tenant": "contoso"}).json()["results"] == []
    assert (
        client.get("/api/v1/audit/records/export/").getvalue().decode().count("\n")
        <= 1 + AuditRecord.objects.filter(tenant=getattr(world, who).tenant).count()
    )


def test_the_web_pages_of_another_tenant_are_404(world, client, contoso_objects):
    client.force_login(world.northwind_admin)
    for url in [
        f"/requests/{contoso_objects['request']}/",
        f"/support/lockbox-requests/?selected={contoso_objects['request']}",
        f"/audit/records/{contoso_objects['record']}/",
        f"/audit/retention-policies/{contoso_objects['policy']}/edit/",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/requests/{contoso_objects['request']}/decide/",
        f"/requests/{contoso_objects['request']}/revoke/",
        f"/audit/retention-policies/{contoso_objects['policy']}/delete/",
    ]:
        assert client.post(url, {"decision": "approve"}).status_code == 404, url
