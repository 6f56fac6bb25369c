"""SPEC 10 in real Chromium: a two-approver approval, a question and its answer, an emergency
access and its review, each through the buttons and labels a user sees."""

import pytest
from playwright.sync_api import expect

from requests_app import services
from requests_app.models import AccessRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _pending_customer(world, tenant, **fields):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug=tenant.slug, title="Case")
    access_request = services.access_request_create(
        actor=world.engineer,
        ticket_id=ticket.pk,
        cloud_pc_ids=[getattr(world, f"{tenant.slug}_pcs")[0].pk],
        reason="Mail flow stops at noon",
        **fields,
    )
    if fields.get("reason_type") != "response_to_production_alert":
        services.access_request_internal_approve(
            actor=world.manager, access_request_id=access_request.pk
        )
    return access_request


def _open(page, live_server, access_request):
    page.goto(f"{live_server.url}/requests/{access_request.pk}/")


def test_two_approvers_approve_and_the_first_shortens_the_window(world, page, live_server, sign_in):
    access_request = _pending_customer(world, world.tailspin, duration_minutes=120)
    sign_in("approver@tailspin.example")
    _open(page, live_server, access_request)
    expect(page.get_by_text("0 of 2 approvals")).to_be_visible()
    page.get_by_label("Shorten access to (minutes, optional)").fill("45")
    page.get_by_label("Comment (optional)").fill("Fine for 45 minutes")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".msg.success")).to_have_text(
        f"Request {access_request.pk}: your approval is recorded (1 of 2 approvals). "
        "Your request has been updated."
    )
    expect(page.locator(".approvals")).to_have_text("1 of 2 approvals")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)  # not twice

    sign_in("admin@tailspin.example")
    _open(page, live_server, access_request)
    expect(page.get_by_text("1 of 2 approvals")).to_be_visible()
    expect(page.get_by_text("shortened to 45 minutes")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".approvals")).to_have_text("2 of 2 approvals")
    expect(page.locator("h1, h2").get_by_text("Approved", exact=True)).to_be_visible()
    access_request.refresh_from_db()
    assert access_request.status == "approved"
    assert (access_request.window_ends_at - access_request.window_starts_at).seconds == 45 * 60


def test_a_question_and_its_answer(world, page, live_server, sign_in):
    access_request = _pending_customer(world, world.contoso)
    sign_in("approver@contoso.example")
    _open(page, live_server, access_request)
    page.get_by_label("Ask the engineer a question").fill("Which mailbox is affected?")
    page.get_by_role("button", name="Request more information").click()
    expect(page.get_by_text("Information requested", exact=True).first).to_be_visible()
    expect(page.get_by_text("Paused while the engineer answers")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    sign_in("engineer@provider.example")
    _open(page, live_server, access_request)
    expect(page.get_by_text("Which mailbox is affected?")).to_be_visible()
    page.get_by_label("Your answer").fill("The shared finance mailbox")
    page.get_by_role("button", name="Send answer").click()
    expect(page.locator(".msg.success")).to_contain_text("Your request has been updated")

    sign_in("approver@contoso.example")
    _open(page, live_server, access_request)
    expect(page.get_by_text("The shared finance mailbox")).to_be_visible()
    page.get_by_role("button", name="Approve").click()
    expect(page.locator(".msg.success")).to_contain_text("Your request has been updated")
    assert AccessRequest.objects.get(pk=access_request.pk).status == "approved"


def test_an_emergency_access_and_its_review(world, page, live_server, sign_in):
    access_request = _pending_customer(
        world, world.tailspin, reason_type="response_to_production_alert", duration_minutes=60
    )
    sign_in("manager@provider.example")
    _open(page, live_server, access_request)
    page.get_by_label("Why it cannot wait for the customer (required)").fill("P1: mail down")
    page.get_by_role("button", name="Grant emergency access").click()
    expect(page.locator(".msg.success")).to_contain_text("Your request has been updated")
    expect(page.get_by_text("Emergency access", exact=True)).to_be_visible()

    sign_in("approver@tailspin.example")
    page.get_by_role("link", name="Customer Lockbox Requests").click()
    page.get_by_role("link", name="All").click()
    page.get_by_role("link", name=f"Request {access_request.pk}", exact=True).click()
    panel = page.locator("aside.panel")
    expect(panel.get_by_text("Pending · due")).to_be_visible()
    panel.get_by_label("Review comment (optional to accept)").fill("Needed; thanks for the note")
    panel.get_by_role("button", name="Accept").click()
    expect(page.locator(".msg.success")).to_contain_text("Your request has been updated")
    access_request.refresh_from_db()
    assert access_request.review_status == "accepted"
    assert access_request.reviewed_by == world.tailspin_approver
    _open(page, live_server, access_request)
    expect(
        page.get_by_role("definition").filter(has_text="Accepted by approver@tailspin")
    ).to_be_visible()
