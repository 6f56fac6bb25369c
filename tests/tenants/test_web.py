"""Sign-in, the navigation by role, and the Customer Lockbox settings page."""

import pytest
from django.urls import reverse

from audit_app.models import AuditRecord


def test_sign_in_and_out(world, client):
    page = client.get("/login/")
    assert page.status_code == 200 and b"Sign in" in page.content
    response = client.post(
        "/login/", {"username": "admin@contoso.example", "password": "lockbox-demo"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"Welcome" in client.get("/").content
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_a_wrong_password_is_refused(world, client):
    response = client.post("/login/", {"username": "admin@contoso.example", "password": "nope"})
    assert response.status_code == 200 and b"correct" in response.content


def test_sign_in_does_not_redirect_off_site(world, client):
    response = client.post(
        "/login/?next=https://evil.example/",
        {
            "username": "admin@contoso.example",
            "password": "lockbox-demo",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/"


NAV = {
    "admin": ["Org settings", "Roles", "Customer Lockbox Requests", "Audit retention policies"],
    "approver": ["Customer Lockbox Requests"],
    "auditor": ["Audit retention policies"],
    "engineer": ["Support tickets", "Request access", "My requests"],
    "manager": ["Support tickets", "Pending internal approval"],
}


@pytest.mark.parametrize("who", NAV)
def test_navigation_shows_only_what_the_role_may_open(world, client, who):
    client.force_login(getattr(world, who))
    html = client.get("/").content.decode()
    html = html[html.index('<nav class="side"') : html.index("</nav>")]
    every = {label for labels in NAV.values() for label in labels}
    for label in every:
        assert (label in html) is (label in NAV[who]), label


def test_a_user_with_no_group_sees_nothing(world, client, django_user_model):
    nobody = django_user_model.objects.create_user("nobody@contoso.example", tenant=world.contoso)
    client.force_login(nobody)
    html = client.get("/").content.decode()
    assert "no role" in html
    for url in ["/settings/org/", "/support/lockbox-requests/", "/audit/", "/provider/tickets/"]:
        assert client.get(url).status_code == 403


def test_the_admin_saves_the_setting(world, client):
    client.force_login(world.admin)
    url = reverse("lockbox_settings")
    page = client.get(url).content.decode()
    assert "Require approval for all data access requests" in page and ">Save<" in page
    response = client.post(url, {}, follow=True)
    assert b"has been saved" in response.content
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is False
    client.post(url, {"enabled": "on"})
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is True
    assert AuditRecord.objects.filter(operation="LockboxSettingChanged").count() == 2


def test_fabrikam_sees_why_lockbox_is_unavailable(world, client):
    client.force_login(world.fabrikam_admin)
    url = reverse("lockbox_settings")
    page = client.get(url).content.decode()
    assert "not available on your plan" in page and "E5" in page
    response = client.post(url, {"enabled": "on"})
    assert response.status_code == 400
    world.fabrikam.refresh_from_db()
    assert world.fabrikam.lockbox_enabled is False


def test_the_settings_page_is_for_global_admins_only(world, client):
    client.force_login(world.approver)
    assert client.get(reverse("lockbox_settings")).status_code == 403
    assert client.post(reverse("lockbox_settings"), {}).status_code == 403


def test_static_files_are_served_by_the_app(world, client, live_server):
    import urllib.request

    with urllib.request.urlopen(live_server.url + "/static/lockbox/app.css") as response:
        assert response.status == 200 and b"--blue" in response.read()
