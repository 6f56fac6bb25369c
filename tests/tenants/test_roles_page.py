"""`Settings` > `Roles`: the tenant's users, a checkbox per role, `Save`, and `Unlock`."""

import re

from django.test import Client

from audit_app.models import AuditRecord
from tenants_app.models import User

GA = "Global Administrator"
APPROVER = "Customer Lockbox Access Approver"
READER = "Audit Reader"


def _roles(user):
    return sorted(User.objects.get(pk=user.pk).groups.values_list("name", flat=True))


def _checked(html, user, role):
    pattern = rf'<input type="checkbox" name="roles" value="{role}" form="roles-{user.pk}"[^>]*>'
    tag = re.search(pattern, html)
    assert tag, (user, role)
    return " checked" in tag.group(0)


def test_the_page_shows_each_user_with_a_checkbox_per_role(world, client):
    client.force_login(world.admin)
    response = client.get("/settings/roles/")
    assert response.status_code == 200
    html = response.content.decode()
    nav = html[html.index('<nav class="side"') : html.index("</nav>")]
    assert 'href="/settings/roles/" aria-current="page">Roles</a>' in nav
    assert "Avery Approver" in html and "auditor@contoso.example" in html
    assert "admin@northwind.example" not in html
    assert _checked(html, world.approver, APPROVER)
    assert not _checked(html, world.approver, GA)
    assert not _checked(html, world.approver, READER)
    assert _checked(html, world.admin, GA)
    assert "Support Engineer" not in html  # provider roles are not offered to a customer
    assert f'action="/settings/roles/{world.approver.pk}/" id="roles-{world.approver.pk}"' in html
    assert "Unlock" not in html


def test_save_replaces_the_roles_and_audits_them(world, client):
    client.force_login(world.admin)
    response = client.post(
        f"/settings/roles/{world.approver.pk}/", {"roles": [APPROVER, READER]}, follow=True
    )
    assert response.redirect_chain == [("/settings/roles/", 302)]
    assert "The roles of Avery Approver are saved." in response.content.decode()
    assert _roles(world.approver) == [READER, APPROVER]
    record = AuditRecord.objects.get(operation="RoleAssigned")
    assert record.details == {"user": "approver@contoso.example", "role": READER}
    assert (record.tenant_id, record.actor) == (world.contoso.pk, "admin@contoso.example")
    assert not AuditRecord.objects.filter(operation="RoleRemoved").exists()


def test_no_box_ticked_removes_every_role(world, client):
    client.force_login(world.admin)
    assert client.post(f"/settings/roles/{world.auditor.pk}/", {}).status_code == 302
    assert _roles(world.auditor) == []
    assert list(AuditRecord.objects.values_list("operation", flat=True)) == ["RoleRemoved"]


def test_the_last_admin_is_told_why_their_role_stays(world, client):
    client.force_login(world.admin)
    response = client.post(f"/settings/roles/{world.admin.pk}/", {"roles": [READER]})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'role="alert"' in html and "last Global Administrator" in html
    assert _roles(world.admin) == [GA]
    assert not AuditRecord.objects.exists()


def test_a_role_of_the_other_kind_is_refused(world, client):
    client.force_login(world.admin)
    response = client.post(f"/settings/roles/{world.auditor.pk}/", {"roles": ["Support Manager"]})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert _roles(world.auditor) == [READER]


def test_a_locked_out_user_shows_unlock_and_unlock_lets_them_sign_in(world, client):
    locked = Client()
    good = {"username": "auditor@contoso.example", "password": "lockbox-demo"}
    for _ in range(5):
        locked.post("/login/", {"username": "auditor@contoso.example", "password": "wrong"})
    assert locked.post("/login/", good).status_code == 429
    client.force_login(world.admin)
    html = client.get("/settings/roles/").content.decode()
    assert "Locked out" in html
    assert f'action="/settings/roles/{world.auditor.pk}/unlock/"' in html
    response = client.post(f"/settings/roles/{world.auditor.pk}/unlock/", follow=True)
    assert "Aude Auditor can sign in again." in response.content.decode()
    assert "Locked out" not in response.content.decode()
    assert AuditRecord.objects.filter(
        operation="SignInUnlocked", object_id="auditor@contoso.example", tenant=world.contoso
    ).exists()
    assert locked.post("/login/", good).status_code == 302


def test_the_page_is_for_global_admins_only(world, client):
    client.force_login(world.approver)
    assert client.get("/settings/roles/").status_code == 403
    assert client.post(f"/settings/roles/{world.auditor.pk}/", {"roles": [GA]}).status_code == 403
    assert client.post(f"/settings/roles/{world.auditor.pk}/unlock/").status_code == 403
    assert _roles(world.auditor) == [READER]
    # No change is recorded; each refused attempt is, as a failure.
    records = AuditRecord.objects.order_by("seq").values_list("operation", "result", "object_id")
    assert list(records) == [
        ("RoleAssigned", "failure", world.auditor.username),
        ("SignInUnlocked", "failure", world.auditor.username),
    ]


def test_another_tenants_user_is_a_404(world, client):
    client.force_login(world.northwind_admin)
    assert client.post(f"/settings/roles/{world.auditor.pk}/", {"roles": [GA]}).status_code == 404
    assert client.post(f"/settings/roles/{world.auditor.pk}/unlock/").status_code == 404
    assert _roles(world.auditor) == [READER]


def test_saving_needs_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.admin)
    assert client.post(f"/settings/roles/{world.auditor.pk}/", {"roles": [GA]}).status_code == 403
    assert client.post(f"/settings/roles/{world.auditor.pk}/unlock/").status_code == 403
    assert _roles(world.auditor) == [READER]
