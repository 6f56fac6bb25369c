"""In Chromium: a session that expires mid-decision, and a page left open after a revoke."""

import pytest
from playwright.sync_api import expect

from requests_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_expired_session_returns_to_the_request_with_the_comment_kept(
    world, page, live_server, sign_in, make_request
):
    access_request = make_request(stage="pending_customer")
    sign_in("approver@contoso.example")
    page.goto(f"{live_server.url}/requests/{access_request.pk}/")
    page.get_by_label("Comment (optional)").fill("Only the finance mailbox")
    page.context.clear_cookies(name="sessionid")  # the session ends while the page is open
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("status")).to_contain_text("Your session had expired")
    page.get_by_label("User name").fill("approver@contoso.example")
    page.get_by_label("Password").fill("lockbox-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/requests/{access_request.pk}/")
    expect(page.get_by_label("Comment (optional)")).to_have_value("Only the finance mailbox")
    access_request.refresh_from_db()
    assert access_request.status == "pending_customer"
    page.get_by_role("button", name="Deny").click()
    expect(page.locator(".msg.success")).to_contain_text(f"Request {access_request.pk} denied.")
    assert access_request.decisions.get(stage="customer").comment == "Only the finance mailbox"


def test_a_page_left_open_after_a_revoke_stops_counting_and_says_access_ended(
    world, page, live_server, sign_in, make_request
):
    access_request = make_request(stage="approved")
    pc = access_request.cloud_pcs.get()
    sign_in("engineer@provider.example")
    page.clock.install()
    page.goto(f"{live_server.url}/provider/cloud-pcs/{pc.pk}/")
    countdown = page.locator(".countdown")
    expect(countdown).to_contain_text("left")
    services.access_request_revoke(actor=world.approver, access_request_id=access_request.pk)
    page.clock.fast_forward("00:16")  # past the page's next check with the server
    expect(countdown).to_have_text(
        "Access ended: revoked by approver@contoso.example at "
        + access_request.__class__.objects.get(pk=access_request.pk).closed_at.strftime("%H:%M")
        + "."
    )
    text = countdown.inner_text()
    page.clock.fast_forward("00:05")
    expect(countdown).to_have_text(text)  # no longer counting
