"""The admin center in real Chromium: every step a user takes, guided only by the labels."""

import csv
import io

import pytest
from playwright.sync_api import expect

from requests_app.models import AccessRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_whole_story(world, page, live_server, sign_in):
    url = live_server.url
    main = page.locator("main")
    # The engineer opens a ticket and asks for access.
    sign_in("engineer@provider.example")
    page.get_by_role("link", name="Support tickets").click()
    page.get_by_label("Customer tenant").select_option(label="Contoso")
    page.get_by_label("Title").fill("Teams crashes when sharing")
    main.get_by_role("button", name="Open ticket").click()
    expect(page.get_by_text("is open.")).to_be_visible()
    main.get_by_role("link", name="Request access").click()
    page.get_by_label("CPC-CON-002 (westeurope)").check()
    page.get_by_label("Reason", exact=True).fill("Collect Teams logs")
    page.get_by_label("Duration (minutes)").fill("60")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_text("was sent for internal approval")).to_be_visible()
    access_request = AccessRequest.objects.get()

    # The manager approves internally from the queue.
    sign_in("manager@provider.example")
    page.get_by_role("link", name="Pending internal approval").click()
    page.get_by_role("link", name=f"Request {access_request.pk}").click()
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Your request has been updated")).to_be_visible()

    # The customer's approver sees it, reads it and approves.
    sign_in("approver@contoso.example")
    page.get_by_role("link", name="Customer Lockbox Requests").click()
    expect(page.get_by_role("link", name="Pending customer approval (1)")).to_be_visible()
    page.get_by_role("link", name=f"Request {access_request.pk}", exact=True).click()
    panel = page.locator("aside.panel")
    expect(panel.get_by_text("Collect Teams logs")).to_be_visible()
    expect(panel.get_by_text("CPC-CON-002")).to_be_visible()
    panel.get_by_label("Comment (optional)").fill("Approved for the Teams case")
    panel.get_by_role("button", name="Approve").click()
    # Back in the queue, told what happened; the request has left "Pending customer approval".
    expect(page.locator(".msg.success")).to_contain_text(
        f"Request {access_request.pk} approved; access until"
    )
    expect(page.locator(".msg.success")).to_contain_text("Your request has been updated")
    expect(page.get_by_role("link", name="Pending customer approval (0)")).to_be_visible()
    page.get_by_role("link", name="All (1)").click()
    expect(page.get_by_text("Approved", exact=True).first).to_be_visible()

    # The engineer restarts the Cloud PC under the grant.
    sign_in("engineer@provider.example")
    page.get_by_role("link", name="My requests").click()
    page.get_by_role("link", name=f"Request {access_request.pk}", exact=True).click()
    page.get_by_role("link", name="Open as a page").click()
    page.get_by_role("button", name="Restart CPC-CON-002").click()
    page.get_by_role("dialog").get_by_role("button", name="Yes, restart").click()
    expect(page.get_by_text("CPC-CON-002 is restarting.")).to_be_visible()

    # The admin finds every step in Audit and exports them.
    sign_in("admin@contoso.example")
    page.get_by_role("link", name="Audit", exact=True).click()
    page.get_by_label("Request", exact=True).fill(str(access_request.pk))
    page.get_by_role("button", name="Search").click()
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(4)
    for operation in [
        "RequestCreated",
        "RequestInternallyApproved",
        "RequestApproved",
        "OperatorAction",
    ]:
        expect(rows.get_by_text(operation, exact=True)).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export").click()
    exported = list(
        csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read()))
    )
    assert [r["operation"] for r in exported] == [
        "OperatorAction",
        "RequestApproved",
        "RequestInternallyApproved",
        "RequestCreated",
    ]
    assert '"action": "restart"' in exported[0]["details"]
    assert url in page.url


def test_the_admin_turns_the_setting_off_and_on_by_keyboard(world, page, sign_in):
    sign_in("admin@contoso.example")
    page.get_by_role("link", name="Org settings").click()
    page.get_by_role("link", name="Customer Lockbox", exact=True).click()
    box = page.get_by_label("Require approval for all data access requests")
    expect(box).to_be_checked()
    box.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Save")).to_be_focused()
    page.keyboard.press("Enter")
    # Turning it off asks first; the dialog's own buttons work by keyboard too.
    expect(page.get_by_role("dialog")).to_be_visible()
    page.keyboard.press("Shift+Tab")  # from Cancel, where the focus starts
    expect(page.get_by_role("button", name="Yes, turn it off")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("has been saved")).to_be_visible()
    expect(box).not_to_be_checked()
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is False
    box.check()
    page.get_by_role("button", name="Save").click()
    expect(box).to_be_checked()
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is True


def test_fabrikam_sees_that_lockbox_is_unavailable(world, page, sign_in):
    sign_in("admin@fabrikam.example")
    page.get_by_role("link", name="Org settings").click()
    page.get_by_role("link", name="Customer Lockbox", exact=True).click()
    expect(page.get_by_text("not available on your plan")).to_be_visible()
    expect(page.get_by_label("Require approval for all data access requests")).to_be_disabled()
    expect(page.get_by_role("button", name="Save")).to_be_disabled()


def test_an_audit_reader_sees_no_approval_buttons(world, make_request, page, live_server, sign_in):
    access_request = make_request(stage="pending_customer")
    sign_in("auditor@contoso.example")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Audit", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Customer Lockbox Requests")).to_have_count(0)
    page.goto(f"{live_server.url}/requests/{access_request.pk}/")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    page.goto(f"{live_server.url}/audit/")
    expect(page.locator("main table").get_by_text("RequestCreated").first).to_be_visible()


def test_it_works_on_a_narrow_screen(world, page, sign_in):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in("approver@contoso.example")
    page.get_by_role("button", name="Menu").click()  # the navigation folds on a phone
    page.get_by_role("link", name="Customer Lockbox Requests").click()
    # The click starts a navigation: measure the new page once it has loaded, not the
    # document being swapped out (its documentElement can be null for a moment).
    expect(page.get_by_role("heading", name="Customer Lockbox Requests")).to_be_visible()
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
