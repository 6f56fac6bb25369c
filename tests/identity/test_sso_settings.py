"""Settings > Single sign-on: set by the tenant's Global Administrator, audited per field, the
client secret write-only; e-mail domains belong to one tenant."""

from django.urls import reverse

from audit_app.models import AuditRecord
from tenants_app.models import IdentityProvider

FORM = {
    "enabled": "on",
    "issuer": "https://login.contoso.example/v2.0",
    "client_id": "contoso-lockbox",
    "client_secret": "s3cret-value-from-the-provider",
    "groups_claim": "groups",
    "domains": "contoso.example",
    "role_mapping": "lockbox-approvers = Customer Lockbox Access Approver",
}


def test_the_admin_sets_up_sso_and_the_secret_is_never_shown_or_audited(world, client):
    client.force_login(world.admin)
    response = client.post(reverse("sso_settings"), FORM)
    assert response.status_code == 302
    provider = IdentityProvider.objects.get(tenant=world.contoso)
    assert provider.client_secret == FORM["client_secret"]
    assert provider.role_mapping == {"lockbox-approvers": "Customer Lockbox Access Approver"}
    page = client.get(reverse("sso_settings")).content.decode()
    assert FORM["client_secret"] not in page and "contoso-lockbox" in page
    records = AuditRecord.objects.filter(operation="SingleSignOnChanged", tenant=world.contoso)
    fields = sorted(records.values_list("details__field", flat=True))
    assert fields == sorted(
        [
            "enabled",
            "issuer",
            "client_id",
            "groups_claim",
            "role_mapping",
            "domains",
            "client_secret",
        ]
    )
    assert all(FORM["client_secret"] not in str(r.details) for r in records)
    # Saved again with the secret left empty: kept, and nothing new recorded.
    client.post(reverse("sso_settings"), {**FORM, "client_secret": ""})
    provider.refresh_from_db()
    assert provider.client_secret == FORM["client_secret"]
    assert records.count() == 7


def test_a_domain_of_another_tenant_is_refused(world, client):
    client.force_login(world.northwind_admin)
    response = client.post(reverse("sso_settings"), FORM)
    assert response.status_code == 302
    client.force_login(world.admin)
    refused = client.post(reverse("sso_settings"), FORM)
    assert refused.status_code == 400
    assert b"Another organisation signs in with contoso.example" in refused.content
    assert not IdentityProvider.objects.filter(tenant=world.contoso).exists()


def test_an_unknown_role_and_a_plain_http_issuer_are_refused(world, client):
    client.force_login(world.admin)
    bad_role = client.post(reverse("sso_settings"), {**FORM, "role_mapping": "x = Emperor"})
    assert bad_role.status_code == 400 and b"is not a role here" in bad_role.content
    plain = client.post(reverse("sso_settings"), {**FORM, "issuer": "http://idp.example/o"})
    assert plain.status_code == 400 and b"https://" in plain.content


def test_only_a_global_administrator_opens_it(world, client):
    client.force_login(world.approver)
    assert client.get(reverse("sso_settings")).status_code == 403


def test_the_openapi_schema_describes_the_mfa_endpoints(world, api):
    schema = api(world.admin).get("/api/v1/schema/?format=json").json()
    assert {"/api/v1/me/mfa/totp/", "/api/v1/me/mfa/totp/confirm/"} <= set(schema["paths"])
    token_input = schema["components"]["schemas"]["TokenInputRequest"]["properties"]
    assert "otp" in token_input
