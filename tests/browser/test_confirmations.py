"""Every consequential button asks first, in a native <dialog>: Cancel (or Esc) leaves
everything as it was, "Yes" does it. Desktop and phone sizes."""

import pytest
from playwright.sync_api import expect

from audit_app.models import RetentionPolicy
from audit_app.policies import retention_policy_create
from requests_app import services
from requests_app.models import AccessRequest, Webhook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _dialog(page, title, text):
    dialog = page.get_by_role("dialog", name=title)
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(text)
    return dialog


def test_revoke_asks_first_and_cancel_keeps_the_access(
    world, page, live_server, sign_in, make_request
):
    access_request = make_request(stage="approved")
    sign_in("approver@contoso.example")
    page.goto(f"{live_server.url}/requests/{access_request.pk}/")
    page.get_by_role("button", name="Revoke").click()
    dialog = _dialog(
        page,
        f"Revoke access for request {access_request.pk}?",
        "engineer@provider.example loses access to CPC-CON-001 now",
    )
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert AccessRequest.objects.get(pk=access_request.pk).status == "approved"

    page.get_by_role("button", name="Revoke").click()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert AccessRequest.objects.get(pk=access_request.pk).status == "approved"

    page.get_by_role("button", name="Revoke").click()
    dialog.get_by_role("button", name="Yes, revoke access").click()
    expect(page.locator(".msg.success")).to_contain_text("Your request has been updated")
    assert AccessRequest.objects.get(pk=access_request.pk).status == "revoked"


def test_turning_customer_lockbox_off_says_requests_are_then_approved_automatically(
    world, page, live_server, sign_in
):
    sign_in("admin@contoso.example")
    page.goto(f"{live_server.url}/settings/org/security/customer-lockbox/")
    page.get_by_role("button", name="Save").click()  # nothing turned off: no question
    expect(page.get_by_text("has been saved")).to_be_visible()
    page.get_by_label("Require approval for all data access requests").uncheck()
    page.get_by_role("button", name="Save").click()
    dialog = _dialog(page, "Turn off Customer Lockbox?", "will then be approved automatically")
    dialog.get_by_role("button", name="Cancel").click()
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is True
    page.get_by_role("button", name="Save").click()
    dialog.get_by_role("button", name="Yes, turn it off").click()
    expect(page.get_by_text("has been saved")).to_be_visible()
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is False


def test_deleting_a_retention_policy_asks_first(world, page, live_server, sign_in):
    policy = retention_policy_create(
        actor=world.admin,
        data={"name": "Keep approvals", "duration": "P1Y", "priority": 5, "record_types": []},
    )
    sign_in("admin@contoso.example")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/audit/retention-policies/")
    page.get_by_role("button", name="Delete Keep approvals").click()
    dialog = _dialog(page, "Delete the retention policy Keep approvals?", "default period")
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]  # fits the phone
    dialog.get_by_role("button", name="Cancel").click()
    assert RetentionPolicy.objects.filter(pk=policy.pk).exists()
    page.get_by_role("button", name="Delete Keep approvals").click()
    dialog.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("No policies")).to_be_visible()
    assert not RetentionPolicy.objects.filter(pk=policy.pk).exists()


def test_deleting_a_webhook_asks_first(world, page, live_server, sign_in):
    webhook = services.webhook_create(actor=world.admin, url="http://127.0.0.1:9/hook")
    sign_in("admin@contoso.example")
    page.goto(f"{live_server.url}/settings/webhooks/")
    page.get_by_role("button", name="Delete http://127.0.0.1:9/hook").click()
    dialog = _dialog(page, "Delete the webhook?", "http://127.0.0.1:9/hook stops receiving")
    dialog.get_by_role("button", name="Cancel").click()
    assert Webhook.objects.filter(pk=webhook.pk).exists()
    page.get_by_role("button", name="Delete http://127.0.0.1:9/hook").click()
    dialog.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_text("Webhook deleted.")).to_be_visible()
    assert not Webhook.objects.filter(pk=webhook.pk).exists()


def test_restarting_a_cloud_pc_asks_first(world, page, live_server, sign_in, make_request):
    access_request = make_request(stage="approved")
    pc = access_request.cloud_pcs.get()
    sign_in("engineer@provider.example")
    page.goto(f"{live_server.url}/provider/cloud-pcs/{pc.pk}/")
    page.get_by_role("button", name=f"Restart {pc.name}").click()
    dialog = _dialog(page, f"Restart {pc.name}?", "unsaved work on it is lost")
    dialog.get_by_role("button", name="Cancel").click()
    pc.refresh_from_db()
    assert pc.last_restarted_at is None
    page.get_by_role("button", name=f"Restart {pc.name}").click()
    dialog.get_by_role("button", name="Yes, restart").click()
    expect(page.get_by_text(f"{pc.name} is restarting.")).to_be_visible()
    pc.refresh_from_db()
    assert pc.last_restarted_at is not None
