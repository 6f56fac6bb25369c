"""Single sign-on through a real OpenID Connect provider process (SPEC 14)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from audit_app.models import AuditRecord
from tenants_app.models import IdentityProvider, User
from tests.reliability.procs import free_port

from .conftest import provider_sign_in

pytestmark = pytest.mark.django_db(transaction=False)


def start(client, email):
    response = client.post(reverse("sso_start"), {"email": email})
    assert response.status_code == 302, response.content[:300]
    return response["Location"]


def sign_in(client, email):
    callback = provider_sign_in(start(client, email), email)
    return client.get(callback), callback


def roles(username):
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def refusals():
    return list(
        AuditRecord.objects.filter(operation="SignInFailed", details__channel="sso")
        .order_by("seq")
        .values_list("actor", "details__reason")
    )


def test_the_authorization_request_uses_pkce_a_nonce_and_a_state(idp, client):
    query = parse_qs(urlsplit(start(client, "alex@woodgrove.example")).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["nonce"][0] and query["state"][0] and query["code_challenge"][0]
    assert query["client_id"] == ["lockbox-woodgrove"]


def test_a_first_sign_in_creates_the_user_with_its_mapped_roles(idp, client):
    response, _ = sign_in(client, "alex@woodgrove.example")
    assert response.status_code == 302 and response["Location"] == reverse("home")
    user = User.objects.get(username="alex@woodgrove.example")
    assert user.tenant.slug == "woodgrove" and not user.has_usable_password()
    assert roles(user.username) == {"Global Administrator"}
    home = client.get(reverse("home"))
    assert b"alex@woodgrove.example" in home.content
    operations = list(
        AuditRecord.objects.filter(tenant__slug="woodgrove")
        .order_by("seq")
        .values_list("operation", "actor")
    )
    assert operations == [
        ("UserProvisioned", "System"),
        ("RoleAssigned", "System"),
        ("SignedIn", "alex@woodgrove.example"),
    ]


def test_a_group_change_at_the_provider_changes_the_roles_at_the_next_sign_in(idp, client):
    sign_in(client, "megan@woodgrove.example")
    assert roles("megan@woodgrove.example") == {"Customer Lockbox Access Approver"}
    idp.configure(
        users={
            "megan@woodgrove.example": {"password": "lockbox-demo", "groups": ["lockbox-auditors"]}
        }
    )
    client.logout()
    sign_in(client, "megan@woodgrove.example")
    assert roles("megan@woodgrove.example") == {"Audit Reader"}
    changes = list(
        AuditRecord.objects.filter(operation__in=["RoleAssigned", "RoleRemoved"])
        .order_by("seq")
        .values_list("operation", "details__role")
    )
    assert changes[-2:] == [
        ("RoleAssigned", "Audit Reader"),
        ("RoleRemoved", "Customer Lockbox Access Approver"),
    ]


@pytest.mark.parametrize(
    ("fault", "reason"), [("foreign_key", "bad_signature"), ("wrong_audience", "wrong_audience")]
)
def test_a_token_signed_by_another_key_or_for_another_audience_is_refused(
    idp, client, fault, reason
):
    idp.configure(fault=fault)
    response, _ = sign_in(client, "alex@woodgrove.example")
    assert response.status_code == 403
    assert b"Sign-in refused" in response.content
    assert not User.objects.filter(username="alex@woodgrove.example").exists()
    assert refusals() == [("alex@woodgrove.example", reason)]
    assert "_auth_user_id" not in client.session


def test_a_replayed_state_is_refused_and_audited(idp, client):
    first, callback = sign_in(client, "alex@woodgrove.example")
    assert first.status_code == 302
    replay = client.get(callback)
    assert replay.status_code == 400 and b"already used" in replay.content
    assert refusals() == [("(replayed sign-in)", "state_replayed")]


def test_a_token_with_another_sign_ins_nonce_is_refused(idp, client):
    authorize = start(client, "alex@woodgrove.example")
    callback = provider_sign_in(authorize, "alex@woodgrove.example")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    session = client.session
    # As if the code had been issued for another sign-in: its nonce is not this one's.
    session["lockbox_sso_flows"][state]["nonce"] = "a-nonce-of-another-sign-in"
    session.save()
    response = client.get(callback)
    assert response.status_code == 403
    assert refusals() == [("alex@woodgrove.example", "nonce_mismatch")]


def test_a_provider_that_is_down_gives_a_clear_page_and_is_audited(idp, client):
    IdentityProvider.objects.filter(tenant__slug="woodgrove").update(
        issuer=f"http://127.0.0.1:{free_port()}/o"
    )
    response = client.post(reverse("sso_start"), {"email": "alex@woodgrove.example"})
    assert response.status_code == 502
    assert b"could not be reached" in response.content
    assert refusals() == [("alex@woodgrove.example", "provider_unreachable")]


def test_a_deactivated_user_is_refused(idp, client):
    sign_in(client, "megan@woodgrove.example")
    client.logout()
    User.objects.filter(username="megan@woodgrove.example").update(is_active=False)
    response, _ = sign_in(client, "megan@woodgrove.example")
    assert response.status_code == 403 and b"deactivated" in response.content
    assert refusals() == [("megan@woodgrove.example", "deactivated")]


def test_an_address_without_single_sign_on_is_told_to_use_its_password(world, client):
    response = client.post(reverse("sso_start"), {"email": "admin@contoso.example"})
    assert response.status_code == 400 and b"Use your password" in response.content
