"""The Lockbox policy on the Customer Lockbox panel, its effective values, and the demo world
of SPEC section 10."""

import re

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from audit_app.models import AuditRecord
from tenants_app.models import Tenant, User
from tenants_app.policy import Policy, tenant_policy
from tenants_app.services import lockbox_setting_change

FULL_FORM = {
    "enabled": "on",
    "required_approvals": "1",
    "pending_ttl_hours": "12",
    "max_access_minutes": "480",
    "notification_emails": "",
}


def records():
    return list(
        AuditRecord.objects.filter(operation="LockboxSettingChanged")
        .order_by("seq")
        .values_list("details__field", "details__old_value", "details__new_value")
    )


def field_errors(html: str, name: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def test_the_panel_shows_the_policy_with_microsoft_365_labels(world, client):
    client.force_login(world.tailspin_admin)
    html = client.get(reverse("lockbox_settings")).content.decode()
    for label in [
        "Number of approvals required",
        "Time to decide (hours)",
        "Longest access (minutes)",
        "Require a comment to deny or revoke",
        "Allow emergency access",
        "Also notify these addresses",
        "Require approval for all data access requests",
    ]:
        assert f">{label}</label>" in html, label
    assert 'name="required_approvals" value="2" min="1" max="3"' in html
    assert 'name="pending_ttl_hours" value="12" min="1" max="72"' in html
    assert 'name="max_access_minutes" value="480"' in html
    assert re.search(r'<input type="checkbox" name="allow_emergency_access"[^>]* checked', html)
    assert not re.search(
        r'<input type="checkbox" name="require_decision_comment"[^>]*checked', html
    )
    assert ">Save</button>" in html
    # Strict CSP: no inline script or style on the page's own markup.
    assert " style=" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)
    # The switch stays the last control before Save (keyboard: Space, Tab, Enter).
    assert html.index('name="notification_emails"') < html.index('id="id_enabled"')
    assert html.index('id="id_enabled"') < html.index(">Save</button>")


def test_the_panel_saves_the_policy_and_audits_each_changed_field(world, client):
    client.force_login(world.admin)
    form = {
        **FULL_FORM,
        "required_approvals": "2",
        "max_access_minutes": "120",
        "require_decision_comment": "on",
        "notification_emails": "soc@contoso.example\r\n  secops@contoso.example\r\n\r\n",
    }
    response = client.post(reverse("lockbox_settings"), form, follow=True)
    assert b"has been saved" in response.content
    world.contoso.refresh_from_db()
    assert tenant_policy(world.contoso) == Policy(
        enabled=True,
        required_approvals=2,
        pending_ttl_hours=12,
        max_access_minutes=120,
        require_decision_comment=True,
        allow_emergency_access=False,
        notification_emails=("soc@contoso.example", "secops@contoso.example"),
    )
    assert records() == [
        ("required_approvals", 1, 2),
        ("max_access_minutes", 480, 120),
        ("require_decision_comment", False, True),
        ("notification_emails", [], ["soc@contoso.example", "secops@contoso.example"]),
    ]
    html = response.content.decode()
    assert "soc@contoso.example\nsecops@contoso.example</textarea>" in html
    assert world.contoso.lockbox_updated_by == world.admin


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("required_approvals", "4", "Enter a whole number from 1 to 3."),
        ("required_approvals", "", "This field is required."),
        ("pending_ttl_hours", "0", "Enter a whole number from 1 to 72."),
        ("max_access_minutes", "481", "Enter a whole number from 15 to 480."),
        ("max_access_minutes", "many", "Enter a whole number."),
        ("notification_emails", "soc@contoso.example\nnot-an-address", "is not a valid"),
        ("notification_emails", "soc@contoso.example, SOC@contoso.example", "more than once"),
        (
            "notification_emails",
            "\n".join(f"p{i}@contoso.example" for i in range(21)),
            "at most 20 addresses (21 given)",
        ),
    ],
)
def test_the_panel_shows_each_error_next_to_its_field_and_saves_nothing(
    world, client, field, value, message
):
    client.force_login(world.admin)
    form = {**FULL_FORM, "pending_ttl_hours": "24", "allow_emergency_access": "on", field: value}
    response = client.post(reverse("lockbox_settings"), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in field_errors(html, field)
    others = {"required_approvals", "pending_ttl_hours", "max_access_minutes"} - {field}
    assert all(field_errors(html, other) == "" for other in others)
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', html)
    assert "see the fields marked below" in html
    world.contoso.refresh_from_db()
    assert (world.contoso.pending_ttl_hours, world.contoso.allow_emergency_access) == (12, False)
    assert records() == []


def test_an_older_form_without_the_policy_fields_keeps_them(world, client):
    lockbox_setting_change(actor=world.admin, required_approvals=3, notification_emails=["a@b.io"])
    client.force_login(world.admin)
    client.post(reverse("lockbox_settings"), {})  # only the switch, now off
    world.contoso.refresh_from_db()
    assert (world.contoso.lockbox_enabled, world.contoso.required_approvals) == (False, 3)
    assert world.contoso.notification_emails == ["a@b.io"]


def test_the_policy_is_closed_where_lockbox_is_unavailable(world, client):
    client.force_login(world.fabrikam_admin)
    html = client.get(reverse("lockbox_settings")).content.decode()
    assert '<fieldset id="lb-policy" disabled aria-describedby="lb-why">' in html
    response = client.post(reverse("lockbox_settings"), {**FULL_FORM, "enabled": ""})
    assert response.status_code == 302  # nothing changed, nothing refused
    response = client.post(reverse("lockbox_settings"), {**FULL_FORM, "required_approvals": "2"})
    assert response.status_code == 400 and b"not available on your plan" in response.content
    world.fabrikam.refresh_from_db()
    assert world.fabrikam.required_approvals == 1 and records() == []


def test_an_approver_cannot_open_or_post_the_panel(world, client):
    client.force_login(world.approver2)
    assert client.get(reverse("lockbox_settings")).status_code == 403
    assert client.post(reverse("lockbox_settings"), FULL_FORM).status_code == 403
    assert records() == []


def test_the_database_refuses_a_policy_out_of_bounds(world):
    for field, value in [
        ("required_approvals", 4),
        ("required_approvals", 0),
        ("pending_ttl_hours", 73),
        ("max_access_minutes", 14),
    ]:
        with pytest.raises(IntegrityError), transaction.atomic():
            Tenant.objects.filter(pk=world.contoso.pk).update(**{field: value})


def test_tenant_policy_caps_the_longest_access_at_the_deployment_bound(world, settings):
    assert tenant_policy(world.contoso).max_access_minutes == 480
    settings.LOCKBOX_MAX_ACCESS_MINUTES = 240
    assert tenant_policy(world.contoso).max_access_minutes == 240


def test_the_demo_world_has_tailspin_and_a_second_contoso_approver(world):
    tailspin = world.tailspin
    assert (tailspin.name, tailspin.plan, tailspin.kind) == ("Tailspin", "E5", "customer")
    assert tenant_policy(tailspin) == Policy(
        enabled=True,
        required_approvals=2,
        pending_ttl_hours=12,
        max_access_minutes=480,
        require_decision_comment=False,
        allow_emergency_access=True,
        notification_emails=(),
    )
    assert tailspin.lockbox_available
    assert tenant_policy(world.contoso).required_approvals == 1

    def roles(user):
        return (user.tenant.slug, sorted(user.groups.values_list("name", flat=True)))

    assert roles(world.approver2) == ("contoso", ["Customer Lockbox Access Approver"])
    assert roles(world.tailspin_admin) == ("tailspin", ["Global Administrator"])
    assert roles(world.tailspin_approver) == ("tailspin", ["Customer Lockbox Access Approver"])
    for user in (world.approver2, world.tailspin_admin, world.tailspin_approver):
        assert user.check_password("lockbox-demo") and user.email == user.username
    assert [pc.name for pc in world.tailspin_pcs] == ["CPC-TSP-001", "CPC-TSP-002"]
    assert all(pc.tenant_id == tailspin.pk for pc in world.tailspin_pcs)
    # The first approver stays the first (tests and the make_request fixture pick it).
    assert world.approver.pk < world.approver2.pk


def test_reseeding_keeps_what_tailspin_changed(world):
    lockbox_setting_change(actor=world.tailspin_admin, required_approvals=3)
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    world.tailspin.refresh_from_db()
    assert world.tailspin.required_approvals == 3
    assert User.objects.filter(tenant=world.tailspin).count() == 2
