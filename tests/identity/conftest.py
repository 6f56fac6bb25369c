"""A real OpenID Connect provider (demo_idp, django-oauth-toolkit) in its own process on a free
127.0.0.1 port, started once per test session; and a browser-like walk through its sign-in."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from tests.conftest import require_service
from tests.reliability.procs import free_port, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://testserver/login/sso/callback/"
USERS = {
    "alex@woodgrove.example": {"password": "lockbox-demo", "groups": ["lockbox-admins"]},
    "megan@woodgrove.example": {"password": "lockbox-demo", "groups": ["lockbox-approvers"]},
}


def _directory(users=None, fault=None) -> dict:
    return {
        "users": users or USERS,
        "clients": [
            {
                "client_id": "lockbox-woodgrove",
                "client_secret": "woodgrove-demo-secret",
                "redirect_uris": [CALLBACK],
            }
        ],
        "fault": fault,
    }


def _answers(issuer) -> bool:
    try:
        return httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1).is_success
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def idp_process(tmp_path_factory):
    try:
        import oauth2_provider  # noqa: F401
    except ImportError:
        require_service(False, "django-oauth-toolkit, for the demo identity provider")
    tmp = tmp_path_factory.mktemp("idp")
    directory = tmp / "directory.json"
    directory.write_text(json.dumps(_directory()))
    port = free_port()
    log = open(tmp / "idp.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "demo_idp", "--port", str(port), "--directory", str(directory)]
        + ["--data-dir", str(tmp / "data")],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        wait_for(lambda: _answers(issuer) or process.poll() is not None, 30, "the provider")
    except AssertionError:
        pass
    if not _answers(issuer):
        stop(process)
        require_service(False, f"the demo identity provider ({(tmp / 'idp.log').read_text()})")
    yield SimpleNamespace(issuer=issuer, directory=directory)
    stop(process)
    log.close()


@pytest.fixture
def idp(idp_process, world):
    """The provider, Woodgrove pointed at it, and its directory back as it began."""
    from tenants_app.models import IdentityProvider

    idp_process.directory.write_text(json.dumps(_directory()))
    IdentityProvider.objects.filter(tenant__slug="woodgrove").update(issuer=idp_process.issuer)

    def configure(users=None, fault=None):
        idp_process.directory.write_text(json.dumps(_directory(users, fault)))

    return SimpleNamespace(issuer=idp_process.issuer, configure=configure)


def provider_sign_in(authorize_url: str, username: str, password="lockbox-demo") -> str:
    """Sign in at the provider as a browser would; returns the path Lockbox is sent back to."""
    with httpx.Client(timeout=10) as browser:
        login_page = browser.get(authorize_url, follow_redirects=True)
        assert "/accounts/login/" in str(login_page.url), login_page.text[:300]
        next_url = parse_qs(urlsplit(str(login_page.url)).query)["next"][0]
        posted = browser.post(
            str(login_page.url),
            data={
                "username": username,
                "password": password,
                "next": next_url,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
        )
        assert posted.status_code == 302, posted.text[:300]
        back = browser.get(urljoin(str(login_page.url), posted.headers["location"]))
        assert back.status_code == 302, back.text[:300]
    location = back.headers["location"]
    assert location.startswith(CALLBACK), location
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"
