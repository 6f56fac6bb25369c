"""Sign-in lockout and its audit, CSRF, cookies, security headers and `check --deploy`."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from audit_app.models import AuditRecord

ROOT = Path(__file__).resolve().parents[2]


def _fail(client, username="admin@contoso.example", times=1):
    return [
        client.post("/login/", {"username": username, "password": "wrong"}).status_code
        for _ in range(times)
    ]


def test_failed_sign_ins_are_audited_in_the_users_tenant(world, client, api):
    _fail(client)
    api().post(
        "/api/v1/auth/token/",
        {"username": "admin@contoso.example", "password": "nope"},
        format="json",
    )
    records = AuditRecord.objects.filter(operation="SignInFailed").order_by("seq")
    assert [(r.tenant_id, r.result, r.details["channel"], r.record_type) for r in records] == [
        (world.contoso.pk, "failure", "web", "LockboxSignIn"),
        (world.contoso.pk, "failure", "api", "LockboxSignIn"),
    ]
    assert records[0].client_ip == "127.0.0.1"


def test_an_unknown_user_name_writes_no_tenant_record(world, client):
    _fail(client, username="ghost@nowhere.example")
    assert not AuditRecord.objects.exists()


def test_repeated_failures_lock_the_account_for_that_address(world, client):
    assert _fail(client, times=5) == [200, 200, 200, 200, 429]  # the fifth failure locks
    locked = client.post(
        "/login/", {"username": "admin@contoso.example", "password": "lockbox-demo"}
    )
    assert locked.status_code == 429 and b"Too many failed sign-ins" in locked.content
    other = Client(REMOTE_ADDR="10.9.9.9")  # another address is not locked out
    assert (
        other.post(
            "/login/", {"username": "admin@contoso.example", "password": "lockbox-demo"}
        ).status_code
        == 302
    )


def test_the_api_token_endpoint_is_locked_too(world, api):
    client = api()
    body = {"username": "approver@contoso.example", "password": "wrong"}
    codes = [client.post("/api/v1/auth/token/", body, format="json").status_code for _ in range(5)]
    assert codes == [400, 400, 400, 400, 429]
    good = {"username": "approver@contoso.example", "password": "lockbox-demo"}
    assert client.post("/api/v1/auth/token/", good, format="json").status_code == 429


def test_forms_refuse_a_post_without_csrf_token(world, make_request):
    access_request = make_request(stage="pending_customer")
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.approver)
    for url, data in [
        (f"/requests/{access_request.pk}/decide/", {"decision": "approve"}),
        ("/settings/org/security/customer-lockbox/", {}),
        ("/logout/", {}),
    ]:
        assert client.post(url, data).status_code == 403, url
    access_request.refresh_from_db()
    assert access_request.status == "pending_customer"


def test_security_headers_and_cookie_flags(world, client):
    response = client.post(
        "/login/", {"username": "admin@contoso.example", "password": "lockbox-demo"}
    )
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    page = client.get("/")
    assert page["X-Frame-Options"] == "DENY"
    assert page["Referrer-Policy"] == "same-origin"
    assert page["X-Content-Type-Options"] == "nosniff"
    csp = page["Content-Security-Policy"]
    assert (
        "default-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
        and "unsafe-inline" not in csp
    )


def _manage(args, **env):
    test_only = ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in test_only}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **env, "DJANGO_SETTINGS_MODULE": "lockbox_site.settings"},
    )


def _production_env(tmp_path, **more):
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "lockbox.example.com",
        "LOCKBOX_VAR_DIR": str(tmp_path),
        **more,
    }


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    from joserfc.jwk import OKPKey

    key_file = tmp_path / "signing-key.pem"
    key_file.write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=True))
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        **_production_env(tmp_path, LOCKBOX_SIGNING_KEY_FILE=str(key_file)),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_production_would_sign_with_a_generated_key(tmp_path):
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], **_production_env(tmp_path))
    assert result.returncode != 0
    assert "lockbox.W001" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "http:evil.example"]
)
def test_no_open_redirect_after_sign_in(world, client, target):
    response = client.post(
        "/login/", {"username": "admin@contoso.example", "password": "lockbox-demo", "next": target}
    )
    assert response.status_code == 302 and response["Location"] == "/"


@pytest.mark.parametrize(
    "password", ["short", "password123", "12345678901", "admin@contoso.example"]
)
def test_weak_passwords_are_refused(world, password):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password(password, user=world.admin)
    validate_password("a-long-and-unusual-passphrase", user=world.admin)
