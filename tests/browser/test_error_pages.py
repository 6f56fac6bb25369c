"""The product's own error pages in Chromium: the reason, the navigation, at desktop and phone
sizes; never Django's debug or bare pages."""

import pytest
from playwright.sync_api import expect

from requests_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _is_product_page(page, status_title):
    expect(page.get_by_role("heading", level=1)).to_have_text(status_title)
    expect(page.get_by_role("link", name="Lockbox admin center")).to_be_visible()
    assert "Traceback" not in page.content()
    assert "Django" not in page.content()


def test_a_missing_request_is_the_404_page_with_the_navigation(world, page, live_server, sign_in):
    sign_in("approver@contoso.example")
    response = page.goto(f"{live_server.url}/requests/999999/")
    assert response.status == 404
    _is_product_page(page, "We couldn't find that page")
    expect(page.locator(".reason")).to_have_text("No such access request.")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Customer Lockbox Requests")).to_be_visible()
    page.get_by_role("link", name="Go to Home").click()
    expect(page).to_have_url(live_server.url + "/")


def test_an_address_nothing_answers_is_the_404_page_signed_out(world, page, live_server):
    response = page.goto(f"{live_server.url}/no/such/page/")
    assert response.status == 404
    _is_product_page(page, "We couldn't find that page")
    expect(page.locator(".reason")).to_have_text("There is nothing at this address.")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_a_page_the_role_may_not_open_is_the_403_page(world, page, live_server, sign_in):
    sign_in("engineer@provider.example")
    response = page.goto(f"{live_server.url}/audit/")
    assert response.status == 403
    _is_product_page(page, "You don't have access to this")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My requests")).to_be_visible()


def test_a_revoked_grant_says_who_revoked_it_and_when(
    world, page, live_server, sign_in, make_request
):
    access_request = make_request(stage="approved")
    services.access_request_revoke(
        actor=world.approver, access_request_id=access_request.pk, comment="Done"
    )
    access_request.refresh_from_db()
    pc = access_request.cloud_pcs.get()
    sign_in("engineer@provider.example")
    page.set_viewport_size(PHONE)
    response = page.goto(f"{live_server.url}/provider/cloud-pcs/{pc.pk}/")
    assert response.status == 403
    _is_product_page(page, "You don't have access to this")
    expect(page.locator(".reason")).to_have_text(
        f"Your access to {pc.name} (request {access_request.pk}) was revoked by "
        f"approver@contoso.example at {access_request.closed_at:%Y-%m-%d %H:%M} UTC."
    )
    # The phone layout keeps the page inside the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_get_to_a_button_address_is_the_405_page(world, page, live_server, sign_in, make_request):
    access_request = make_request(stage="pending_customer")
    sign_in("approver@contoso.example")
    response = page.goto(f"{live_server.url}/requests/{access_request.pk}/decide/")
    assert response.status == 405
    assert response.headers["allow"] == "POST"
    _is_product_page(page, "This page can't be opened that way")
    expect(page.locator(".reason")).to_have_text("GET is not accepted here (only POST).")


def test_an_unexpected_failure_is_the_500_page(world, page, live_server, sign_in, monkeypatch):
    from lockbox_site import dashboard as views

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    sign_in("admin@contoso.example")
    monkeypatch.setattr(views, "render", broken)
    response = page.goto(f"{live_server.url}/")
    assert response.status == 500
    _is_product_page(page, "Something went wrong")
    assert "boom" not in page.content()


def test_back_leads_only_to_a_page_of_this_site(world, client):
    ours = client.get("/no/such/page/", HTTP_REFERER="http://testserver/audit/")
    assert b'href="http://testserver/audit/">Back to the previous page' in ours.content
    theirs = client.get("/no/such/page/", HTTP_REFERER="https://evil.example/phish")
    assert b"evil.example" not in theirs.content
