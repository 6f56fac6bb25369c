"""API tokens (SPEC section 8): one per sign-in, expiring, stored hashed, revocable."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

PASSWORD = "lockbox-demo"


def _sign_in(username="approver@contoso.example", password=PASSWORD):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _me(token, scheme="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client.get("/api/v1/me/").status_code


def _post(path, token, scheme="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token}")
    return client.post(path)


def test_each_sign_in_returns_a_new_token_and_its_expiry(world):
    before = timezone.now()
    first, second = _sign_in(), _sign_in()
    after = timezone.now()
    assert first["token"] != second["token"]
    assert set(first) == {"token", "expiry"}
    expiry = parse_datetime(first["expiry"])
    assert before + timedelta(hours=10) <= expiry <= after + timedelta(hours=10)
    assert _me(first["token"]) == 200 and _me(second["token"]) == 200


def test_a_token_is_stored_only_as_a_hash(world):
    token = _sign_in()["token"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT digest, token_key FROM knox_authtoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    digest, key = rows[0]
    assert token not in digest and key != token and len(key) < len(token)


def test_a_token_expires_after_the_ttl(world):
    token = _sign_in()["token"]
    with time_machine.travel(timezone.now() + timedelta(hours=9, minutes=59)):
        assert _me(token) == 200
    with time_machine.travel(timezone.now() + timedelta(hours=10, minutes=1)):
        assert _me(token) == 401


def test_the_ttl_comes_from_lockbox_token_ttl_hours(world, settings):
    settings.REST_KNOX = {**settings.REST_KNOX, "TOKEN_TTL": timedelta(hours=2)}
    token = _sign_in()["token"]
    with time_machine.travel(timezone.now() + timedelta(hours=2, minutes=1)):
        assert _me(token) == 401


def test_logout_revokes_only_the_token_it_is_called_with(world):
    mine, other = _sign_in()["token"], _sign_in()["token"]
    response = _post("/api/v1/auth/logout/", mine)
    assert response.status_code == 204
    assert _me(mine) == 401
    assert _me(other) == 200


def test_logout_all_revokes_every_token_of_the_user(world):
    tokens = [_sign_in()["token"] for _ in range(3)]
    someone_else = _sign_in("admin@contoso.example")["token"]
    assert _post("/api/v1/auth/logout-all/", tokens[0], scheme="Bearer").status_code == 204
    assert [_me(t) for t in tokens] == [401, 401, 401]
    assert _me(someone_else) == 200


def test_logout_without_a_token_is_401(world):
    assert APIClient().post("/api/v1/auth/logout/").status_code == 401
    assert APIClient().post("/api/v1/auth/logout-all/").status_code == 401


def test_bearer_is_accepted_beside_token(world):
    token = _sign_in()["token"]
    assert _me(token, "Bearer") == 200
    assert _me(token, "bearer") == 200
    assert _me(token, "Token") == 200
    assert _me(token + "0", "Bearer") == 401
    assert _me("é" * 64, "Bearer") == 401  # not hex and not UTF-8 on the wire: 401, not 500


def test_a_password_change_revokes_every_token(world):
    from tenants_app.models import User

    tokens = [_sign_in()["token"] for _ in range(2)]
    other = _sign_in("admin@contoso.example")["token"]
    user = User.objects.get(username="approver@contoso.example")
    user.set_password("a-long-and-unusual-passphrase")
    user.save()
    assert [_me(t) for t in tokens] == [401, 401]
    assert _me(other) == 200
    assert _sign_in(password="a-long-and-unusual-passphrase")["token"]


def test_the_changepassword_command_revokes_every_token(world):
    token = _sign_in()["token"]
    with mock.patch("getpass.getpass", return_value="a-long-and-unusual-passphrase"):
        call_command("changepassword", "approver@contoso.example", stdout=StringIO())
    assert _me(token) == 401


def test_a_password_change_in_the_admin_revokes_every_token(world, client):
    # Staff set passwords of provider users only (a customer's user keeps its own).
    token = _sign_in("engineer@provider.example")["token"]
    world.manager.is_staff = world.manager.is_superuser = True
    world.manager.save()
    client.force_login(world.manager)
    response = client.post(
        f"/admin/tenants_app/user/{world.engineer.pk}/password/",
        {
            "password1": "a-long-and-unusual-passphrase",
            "password2": "a-long-and-unusual-passphrase",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    assert _me(token) == 401


def test_a_hash_upgrade_at_sign_in_is_not_a_password_change(world, settings):
    from tenants_app.models import User

    token = _sign_in()["token"]
    # The next sign-in finds the hash in an older format and rewrites it (check_password's setter).
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    before = User.objects.get(pk=world.approver.pk).password
    _sign_in()
    assert User.objects.get(pk=world.approver.pk).password != before
    assert _me(token) == 200


def test_deactivation_revokes_every_token(world):
    from tenants_app.models import User

    token = _sign_in()["token"]
    user = User.objects.get(username="approver@contoso.example")
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()
    assert _me(token) == 401


@pytest.mark.django_db
def test_user_tokens_revoke_counts_what_it_revoked(world):
    from tenants_app.tokens import user_tokens_revoke

    tokens = [_sign_in()["token"] for _ in range(3)]
    other = _sign_in("admin@contoso.example")["token"]
    assert user_tokens_revoke(world.approver) == 3
    assert [_me(t) for t in tokens] == [401, 401, 401]
    assert _me(other) == 200
    assert user_tokens_revoke(world.approver) == 0
