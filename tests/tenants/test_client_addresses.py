"""Client addresses (SPEC section 8): `X-Forwarded-For` counts only from a trusted proxy.

Throttles, sign-in lockouts and the audit `client_ip` all key on the one address the
middleware settles on, so a client cannot rotate the header to escape them, and behind a
trusted proxy every client is counted as itself rather than as the proxy.
"""

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from audit_app.models import AuditRecord

PROXY = "10.0.0.7"
BAD = {"username": "approver@contoso.example", "password": "wrong"}
GOOD = {"username": "approver@contoso.example", "password": "lockbox-demo"}


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth-token": "3/min"})


@pytest.fixture
def behind_proxy(settings):
    settings.LOCKBOX_TRUSTED_PROXIES = ["10.0.0.0/24", "2001:db8::/32"]


def _token(client, body, forwarded=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return client.post("/api/v1/auth/token/", body, format="json", **extra).status_code


def _guess(n):
    # A new user name each time, so that only the throttle (not the lockout) can refuse it.
    return {"username": f"guess{n}@nowhere.example", "password": "wrong"}


def test_rotating_x_forwarded_for_does_not_evade_the_token_throttle(world, three_a_minute):
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    codes = [_token(client, _guess(n), f"203.0.113.{n}") for n in range(6)]
    assert codes == [400, 400, 400, 429, 429, 429]


def test_rotating_x_forwarded_for_does_not_evade_the_sign_in_lockout(world):
    client = APIClient(REMOTE_ADDR="198.51.100.9")
    codes = [_token(client, BAD, f"203.0.113.{n}") for n in range(5)]
    assert codes == [400, 400, 400, 400, 429]
    assert _token(client, GOOD, "203.0.113.200") == 429


def test_an_untrusted_client_is_recorded_as_itself_whatever_it_forwards(world):
    Client(REMOTE_ADDR="198.51.100.9").post("/login/", {**BAD}, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert list(AuditRecord.objects.values_list("client_ip", flat=True)) == ["198.51.100.9"]


def test_behind_a_trusted_proxy_the_forwarded_client_is_recorded(world, behind_proxy):
    Client(REMOTE_ADDR=PROXY).post("/login/", {**BAD}, HTTP_X_FORWARDED_FOR="203.0.113.5, 10.0.0.9")
    assert list(AuditRecord.objects.values_list("client_ip", flat=True)) == ["203.0.113.5"]


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_out_not_its_neighbours(
    world, behind_proxy
):
    proxy = APIClient(REMOTE_ADDR=PROXY)
    codes = [_token(proxy, BAD, "203.0.113.5") for _ in range(5)]
    assert codes == [400, 400, 400, 400, 429]
    assert _token(proxy, GOOD, "203.0.113.5") == 429
    # Another client behind the same proxy is not locked out by its neighbour's failures.
    assert _token(proxy, GOOD, "203.0.113.6") == 200
    web = Client(REMOTE_ADDR=PROXY)
    assert web.post("/login/", GOOD, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    assert web.post("/login/", GOOD, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 302


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_throttle(
    world, behind_proxy, three_a_minute
):
    proxy = APIClient(REMOTE_ADDR=PROXY)
    codes = [_token(proxy, _guess(n), "203.0.113.5") for n in range(4)]
    assert codes == [400, 400, 400, 429]
    assert _token(proxy, _guess(5), "203.0.113.6") == 400
    # A client cannot reset its count by prepending addresses of its own choosing.
    assert _token(proxy, _guess(6), "192.0.2.1, 203.0.113.5") == 429


@pytest.mark.parametrize(
    ("remote", "forwarded", "seen"),
    [
        # Not from a trusted proxy: the header is ignored.
        ("198.51.100.9", "203.0.113.5", "198.51.100.9"),
        # From a trusted proxy: the right-most address that is not a trusted proxy.
        (PROXY, "203.0.113.5", "203.0.113.5"),
        (PROXY, "192.0.2.66, 203.0.113.5", "203.0.113.5"),
        (PROXY, "203.0.113.5, 10.0.0.8, 10.0.0.9", "203.0.113.5"),
        (PROXY, " 203.0.113.5 ,10.0.0.9 ", "203.0.113.5"),
        (PROXY, "203.0.113.5:4711", "203.0.113.5"),
        (PROXY, "[2001:db9::5]:4711", "2001:db9::5"),
        ("2001:db8::1", "2001:db9::5", "2001:db9::5"),
        # Only trusted proxies in the chain: the left-most of them.
        (PROXY, "10.0.0.8, 10.0.0.9", "10.0.0.8"),
        # Garbage where an address should be: the last hop we trust vouches for nothing more.
        (PROXY, "203.0.113.5, not-an-address", PROXY),
        (PROXY, "not-an-address, 203.0.113.5", "203.0.113.5"),
        (PROXY, "", PROXY),
    ],
)
def test_the_client_address_a_request_is_counted_under(
    world, behind_proxy, remote, forwarded, seen
):
    client = Client(REMOTE_ADDR=remote)
    client.post("/login/", {**BAD}, HTTP_X_FORWARDED_FOR=forwarded)
    assert list(AuditRecord.objects.values_list("client_ip", flat=True)) == [seen]


def test_an_unreachable_cache_lets_sign_in_through_and_the_lockout_still_holds(world, settings):
    from tests.reliability.procs import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }
    client = APIClient(REMOTE_ADDR="198.51.100.30")
    assert _token(client, GOOD) == 200
    assert [_token(client, BAD) for _ in range(5)] == [400, 400, 400, 400, 429]
