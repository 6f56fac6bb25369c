"""The rest of issue 14 in Chromium: dashboard bars, the request page's h1, the webhook secret's
copy button, the retention page's default period and priority, the favicon, sign-in names in any
case and the lockout page."""

import pytest
from playwright.sync_api import expect

from audit_app.policies import retention_policy_create
from requests_app import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RED = "rgb(197, 15, 31)"
GREEN = "rgb(16, 124, 16)"


def _background(locator):
    return locator.evaluate("el => getComputedStyle(el).backgroundColor")


def test_the_dashboard_bars_are_a_table_with_denied_and_revoked_in_red(
    world, page, live_server, sign_in, make_request
):
    make_request(stage="approved")
    revoked = make_request(stage="approved")
    services.access_request_revoke(actor=world.approver, access_request_id=revoked.pk)
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk)
    sign_in("approver@contoso.example")
    chart = page.get_by_role("table", name="Requests by outcome, last 30 days")
    for outcome, colour in (("Approved", GREEN), ("Denied", RED), ("Revoked", RED)):
        row = chart.get_by_role("row", name=outcome)
        expect(row.get_by_role("cell").last).to_have_text("1")
        assert _background(row.locator(".bar")) == colour, outcome


def test_a_request_page_has_a_top_level_heading(world, page, live_server, sign_in, make_request):
    access_request = make_request(stage="pending_customer")
    sign_in("approver@contoso.example")
    page.goto(f"{live_server.url}/requests/{access_request.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Request {access_request.pk}")


def test_the_webhook_secret_is_shown_once_with_a_copy_button(world, page, live_server, sign_in):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in("admin@contoso.example")
    page.goto(f"{live_server.url}/settings/webhooks/")
    url_field = page.get_by_label("Endpoint URL")
    assert url_field.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    assert url_field.bounding_box()["width"] > 300  # styled like the other fields
    url_field.fill("http://127.0.0.1:9/lockbox")
    page.get_by_role("button", name="Add webhook").click()
    secret = page.locator("#new-secret").inner_text()
    page.get_by_role("button", name="Copy secret").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.reload()
    expect(page.get_by_text(secret)).to_have_count(0)  # once


def test_the_retention_page_shows_the_default_and_a_new_policy_comes_last(
    world, page, live_server, sign_in
):
    retention_policy_create(
        actor=world.admin, data={"name": "Sign-ins", "duration": "P90D", "priority": 7}
    )
    sign_in("admin@contoso.example")
    page.goto(f"{live_server.url}/audit/retention-policies/")
    expect(page.locator(".default-period")).to_have_text("180 days")
    page.get_by_role("link", name="New retention policy").click()
    expect(page.get_by_label("Priority")).to_have_value("8")
    expect(page.get_by_label("Request approved", exact=True)).to_be_visible()  # friendly names


def test_the_favicon(world, page, live_server):
    page.goto(f"{live_server.url}/login/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(live_server.url + href).status == 200
    response = page.request.get(live_server.url + "/favicon.ico")
    assert response.status == 200 and "svg" in response.headers["content-type"]


def test_sign_in_names_in_any_case(world, page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("Approver@Contoso.EXAMPLE")
    page.get_by_label("Password").fill("lockbox-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_text("approver@contoso.example · Contoso")).to_be_visible()


def test_the_lockout_page_says_for_how_long_and_links_back(world, page, live_server):
    page.set_viewport_size({"width": 390, "height": 844})
    for _ in range(5):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("User name").fill("ADMIN@contoso.example")  # any case counts as one
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Sign in", exact=True).click()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("User name").fill("admin@contoso.example")
    page.get_by_label("Password").fill("lockbox-demo")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Too many failed sign-ins")
    expect(page.get_by_role("alert")).to_contain_text("locked for 15 minutes")
    page.get_by_role("link", name="Back to sign-in").click()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
