"""The request queue as the Microsoft 365 lists behave: the role's own filters, a click anywhere
on a row, an overlay panel that leaves every column readable at 1440 px, the queue kept after a
decision with a message saying what happened, and times in the user's own time zone."""

from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "timezone_id": "Europe/Paris", "viewport": DESKTOP}


def test_the_customer_queue_opens_on_what_waits_and_hides_the_provider_stage(
    world, page, live_server, sign_in, make_request
):
    waiting = make_request(stage="pending_customer")
    internal = make_request()  # still the provider's business
    sign_in("approver@contoso.example")
    page.get_by_role("link", name="Customer Lockbox Requests").click()
    filters = page.get_by_role("navigation", name="Filter by status")
    expect(filters.locator("[aria-current=true]")).to_have_text("Pending customer approval (1)")
    expect(filters.get_by_text("Pending internal approval")).to_have_count(0)
    expect(page.get_by_role("link", name=f"Request {waiting.pk}", exact=True)).to_be_visible()
    filters.get_by_role("link", name="All").click()
    expect(page.get_by_role("link", name=f"Request {internal.pk}", exact=True)).to_have_count(0)
    # No Organisation column: the queue is the customer's own.
    expect(page.get_by_role("columnheader", name="Organisation")).to_have_count(0)


def test_a_row_click_opens_the_overlay_panel_and_every_column_stays_readable(
    world, page, live_server, sign_in, make_request
):
    approved = make_request(stage="approved")
    waiting = make_request(stage="pending_customer")
    sign_in("approver@contoso.example")
    page.goto(f"{live_server.url}/support/lockbox-requests/?status=all")
    page.locator("tr", has_text=f"Request {waiting.pk}").get_by_text(
        "engineer@provider.example"
    ).click()  # not the link: anywhere on the row
    panel = page.get_by_role("complementary")
    expect(panel.get_by_role("heading", name=f"Request {waiting.pk}")).to_be_visible()
    panel_left = panel.bounding_box()["x"]
    for header in page.get_by_role("columnheader").all():
        box = header.bounding_box()
        assert box["x"] + box["width"] <= panel_left, header.inner_text()
    for name in ("Decide before", "Access until"):
        expect(page.get_by_role("columnheader", name=name)).to_be_visible()
    times = page.locator("td.date:visible time")
    expect(times).to_have_count(2)  # the approved one's access until, the waiting one's deadline
    for time in times.all():
        assert time.bounding_box()["height"] < 30, time.inner_text()  # one 20 px line, no wrap
    # Local time, UTC on hover.
    ends = approved.window_ends_at
    cell = page.locator("tr", has_text=f"Request {approved.pk}").locator("td.date time").last
    expect(cell).to_have_text(ends.astimezone(PARIS).strftime("%-d %b %H:%M"))
    expect(cell).to_have_attribute("title", ends.strftime("%Y-%m-%d %H:%M UTC"))
    expect(page.get_by_text("Times in your time zone (Europe/Paris)")).to_be_visible()


def test_after_a_decision_the_approver_stays_in_the_queue_with_what_happened(
    world, page, live_server, sign_in, make_request
):
    waiting = make_request(stage="pending_customer")
    sign_in("approver@contoso.example")
    page.get_by_role("link", name="Customer Lockbox Requests").click()
    page.get_by_role("link", name=f"Request {waiting.pk}", exact=True).click()
    page.get_by_role("complementary").get_by_role("button", name="Approve").click()
    waiting.refresh_from_db()
    until = waiting.window_ends_at.astimezone(PARIS).strftime("%H:%M")
    expect(page.locator(".msg.success")).to_have_text(
        f"Request {waiting.pk} approved; access until {until}. Your request has been updated."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer Lockbox Requests")
    assert page.url.endswith("/support/lockbox-requests/?status=pending_customer")
    expect(page.get_by_role("complementary")).to_have_count(0)


def test_the_manager_queue_opens_on_pending_internal_approval_without_other_filters(
    world, page, live_server, sign_in, make_request
):
    internal = make_request()
    make_request(stage="approved")
    sign_in("manager@provider.example")
    page.get_by_role("link", name="Pending internal approval").click()
    expect(page.get_by_role("navigation", name="Filter by status")).to_have_count(0)
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("link", name=f"Request {internal.pk}")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Organisation")).to_be_visible()
    rows.get_by_text("Contoso").click()
    panel = page.get_by_role("complementary")
    panel_left = panel.bounding_box()["x"]
    for header in page.get_by_role("columnheader").all():
        box = header.bounding_box()
        assert box["x"] + box["width"] <= panel_left, header.inner_text()
    panel.get_by_role("button", name="Approve").click()
    expect(page.locator(".msg.success")).to_have_text(
        f"Request {internal.pk} approved internally; it now waits for the customer. "
        "Your request has been updated."
    )


def test_on_a_phone_the_menu_folds_and_approve_and_deny_are_on_the_first_screen(
    world, page, live_server, sign_in, make_request
):
    waiting = make_request(stage="pending_customer")
    page.set_viewport_size(PHONE)
    sign_in("approver@contoso.example")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Customer Lockbox Requests").click()
    page.get_by_role("link", name=f"Request {waiting.pk}", exact=True).click()
    for name in ("Approve", "Deny"):
        box = page.get_by_role("button", name=name).bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], (name, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
