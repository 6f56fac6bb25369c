"""Single sign-on in real Chromium, against the real demo provider, with both on 127.0.0.1 as
`make run` serves them: the page's CSP must let the sign-in leave for the provider, and the two
apps' cookies must not overwrite each other (browsers share cookies between ports)."""

import pytest
from playwright.sync_api import expect

from tests.identity.conftest import idp, idp_process  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alex_signs_in_with_the_organization(world, page, live_server, idp):  # noqa: F811
    lockbox = live_server.url.replace("localhost", "127.0.0.1")
    idp.configure(callbacks=[f"{lockbox}/login/sso/callback/"])
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    page.goto(f"{lockbox}/login/")
    page.get_by_label("Work e-mail").fill("alex@woodgrove.example")
    page.get_by_role("button", name="Sign in with your organization").click()
    page.wait_for_url(f"{idp.issuer.removesuffix('/o')}/accounts/login/**")
    page.get_by_label("E-mail").fill("alex@woodgrove.example")
    page.get_by_label("Password").fill("lockbox-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{lockbox}/")
    expect(page.get_by_text("alex@woodgrove.example").first).to_be_visible()
    assert blocked == []
