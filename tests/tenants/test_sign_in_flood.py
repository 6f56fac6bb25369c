"""A sign-in flood cannot fill a tenant's audit log: the failures up to the lockout, then the
lockout once, then nothing for the attempts it refuses."""

from datetime import timedelta

import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit_app.models import AuditRecord

LIMIT = settings.AXES_FAILURE_LIMIT


def _sign_in_records():
    return list(
        AuditRecord.objects.filter(record_type="LockboxSignIn")
        .order_by("seq")
        .values_list("operation", "tenant__slug", "object_id", "client_ip", "result")
    )


def _expected(ip, username="admin@contoso.example"):
    failed = ("SignInFailed", "contoso", username, ip, "failure")
    locked = ("SignInLockedOut", "contoso", username, ip, "failure")
    return [failed] * LIMIT + [locked]


def test_fifty_failed_web_sign_ins_write_the_failures_to_the_limit_and_the_lockout_once(world):
    client = Client(REMOTE_ADDR="198.51.100.20")
    body = {"username": "admin@contoso.example", "password": "wrong"}
    codes = [client.post("/login/", body).status_code for _ in range(50)]
    assert codes == [200] * (LIMIT - 1) + [429] * (50 - LIMIT + 1)
    assert _sign_in_records() == _expected("198.51.100.20")
    lockout = AuditRecord.objects.get(operation="SignInLockedOut")
    assert lockout.details == {"channel": "web", "failures": LIMIT}


def test_fifty_failed_api_sign_ins_write_the_failures_to_the_limit_and_the_lockout_once(world):
    client = APIClient(REMOTE_ADDR="198.51.100.21")
    body = {"username": "admin@contoso.example", "password": "wrong"}
    codes = [client.post("/api/v1/auth/token/", body, format="json").status_code for _ in range(50)]
    assert codes == [400] * (LIMIT - 1) + [429] * (50 - LIMIT + 1)
    assert _sign_in_records() == _expected("198.51.100.21")
    # The right password during the lockout is refused and writes nothing either.
    good = {"username": "admin@contoso.example", "password": "lockbox-demo"}
    assert client.post("/api/v1/auth/token/", good, format="json").status_code == 429
    assert len(_sign_in_records()) == LIMIT + 1


def test_web_and_api_failures_share_one_lockout_and_one_record_of_it(world):
    web, api = Client(REMOTE_ADDR="198.51.100.22"), APIClient(REMOTE_ADDR="198.51.100.22")
    body = {"username": "admin@contoso.example", "password": "wrong"}
    for _ in range(10):
        web.post("/login/", body)
        api.post("/api/v1/auth/token/", body, format="json")
    assert _sign_in_records() == _expected("198.51.100.22")


def test_a_new_lockout_after_the_cool_off_is_recorded_again(world):
    client = Client(REMOTE_ADDR="198.51.100.23")
    body = {"username": "admin@contoso.example", "password": "wrong"}
    for _ in range(LIMIT + 3):
        client.post("/login/", body)
    later = timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)
    with time_machine.travel(later):
        for _ in range(LIMIT + 3):
            client.post("/login/", body)
    assert _sign_in_records() == _expected("198.51.100.23") * 2


def test_each_address_gets_its_own_lockout_record(world):
    body = {"username": "admin@contoso.example", "password": "wrong"}
    for ip in ("198.51.100.24", "198.51.100.25"):
        client = Client(REMOTE_ADDR=ip)
        for _ in range(LIMIT + 5):
            client.post("/login/", body)
    assert _sign_in_records() == _expected("198.51.100.24") + _expected("198.51.100.25")


def test_a_failed_sign_in_of_a_long_user_name_is_audited_not_a_500(world):
    from django.test import Client

    from audit_app.models import AuditRecord
    from tenants_app.models import User

    long_name = "a" * 120 + "@contoso.example"
    User.objects.create_user(long_name, long_name, "lockbox-demo-long", tenant=world.contoso)
    response = Client().post("/login/", {"username": long_name, "password": "wrong"})
    assert response.status_code == 200
    [record] = AuditRecord.objects.filter(operation="SignInFailed")
    assert record.object_id == long_name
