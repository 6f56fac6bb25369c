"""Availability of Customer Lockbox, group-based permissions, and the audited setting."""

import pytest
from django.core.management import call_command

from audit_app.models import AuditRecord
from lockbox_site.errors import InvalidInput, NotAllowed
from tenants_app.models import CloudPC, Tenant, User
from tenants_app.roles import Cap, can, capabilities
from tenants_app.services import lockbox_setting_change


@pytest.mark.parametrize(
    ("plan", "addon", "available"),
    [
        ("E5", False, True),
        ("E3", True, True),
        ("E3", False, False),
        ("Business Premium", False, False),
        ("Business Premium", True, True),
    ],
)
def test_the_availability_rule(plan, addon, available):
    assert Tenant(plan=plan, compliance_addon=addon).lockbox_available is available


def test_a_provider_tenant_never_has_lockbox():
    assert Tenant(plan="E5", kind="provider").lockbox_available is False


def test_each_group_gives_exactly_its_capabilities(world):
    assert capabilities(world.admin) == {
        Cap.MANAGE_LOCKBOX_SETTING,
        Cap.VIEW_REQUESTS,
        Cap.DECIDE_REQUESTS,
        Cap.SEARCH_AUDIT,
        Cap.MANAGE_RETENTION,
        Cap.VIEW_CLOUD_PCS,
        Cap.MANAGE_WEBHOOKS,
        Cap.MANAGE_ROLES,
    }
    assert capabilities(world.approver) == {Cap.VIEW_REQUESTS, Cap.DECIDE_REQUESTS}
    assert capabilities(world.auditor) == {Cap.SEARCH_AUDIT}
    assert capabilities(world.engineer) == {Cap.OPEN_TICKETS, Cap.REQUEST_ACCESS}
    assert capabilities(world.manager) == {Cap.DECIDE_INTERNALLY, Cap.CLOSE_ANY_TICKET}


def test_a_group_counts_only_in_a_tenant_of_its_kind(world):
    from django.contrib.auth.models import Group

    world.engineer.groups.add(Group.objects.get(name="Global Administrator"))
    fresh = User.objects.get(pk=world.engineer.pk)
    assert not can(fresh, Cap.MANAGE_LOCKBOX_SETTING)


def test_a_user_without_groups_can_do_nothing(world):
    nobody = User.objects.create_user("nobody@contoso.example", tenant=world.contoso)
    assert capabilities(nobody) == frozenset()


def test_the_global_admin_turns_lockbox_off_and_it_is_audited(world):
    lockbox_setting_change(actor=world.admin, enabled=False, client_ip="192.0.2.1")
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is False
    assert world.contoso.lockbox_updated_by == world.admin
    record = AuditRecord.objects.get(operation="LockboxSettingChanged")
    assert record.record_type == "CustomerLockboxSettings"
    assert (record.details["old_value"], record.details["new_value"]) == (True, False)
    assert record.client_ip == "192.0.2.1"


def test_an_unchanged_setting_writes_no_record(world):
    lockbox_setting_change(actor=world.admin, enabled=True)
    assert not AuditRecord.objects.exists()


def test_only_the_global_admin_changes_the_setting(world):
    for user in (world.approver, world.auditor, world.engineer):
        with pytest.raises(NotAllowed):
            lockbox_setting_change(actor=user, enabled=False)
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is True
    # Each refused attempt is recorded as a failure, in the actor's tenant; no change is.
    records = AuditRecord.objects.order_by("id").values_list("tenant__slug", "actor", "result")
    assert list(records) == [
        ("contoso", "approver@contoso.example", "failure"),
        ("contoso", "auditor@contoso.example", "failure"),
        ("provider-support", "engineer@provider.example", "failure"),
    ]


def test_lockbox_cannot_be_turned_on_without_the_plan(world):
    with pytest.raises(InvalidInput, match="not available on your plan"):
        lockbox_setting_change(actor=world.fabrikam_admin, enabled=True)
    world.fabrikam.refresh_from_db()
    assert world.fabrikam.lockbox_enabled is False
    lockbox_setting_change(actor=world.northwind_admin, enabled=True)  # E3 + add-on


def test_seeding_twice_changes_nothing(world):
    counts = (Tenant.objects.count(), User.objects.count(), CloudPC.objects.count())
    lockbox_setting_change(actor=world.admin, enabled=False)
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert (Tenant.objects.count(), User.objects.count(), CloudPC.objects.count()) == counts
    assert counts == (6, 10, 9)  # Woodgrove (SPEC 14) has no local users: SSO makes them
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_enabled is False  # an admin's change survives a re-seed
    assert User.objects.get(username="admin@contoso.example").check_password("lockbox-demo")


def test_seed_takes_a_password(world):
    call_command("seed_demo", password="another-pass-42", stdout=open("/dev/null", "w"))
    assert User.objects.get(username="approver@contoso.example").check_password("another-pass-42")


def test_the_demo_world_matches_the_spec(world):
    assert (world.contoso.plan, world.contoso.lockbox_enabled, world.contoso.lockbox_available) == (
        "E5",
        True,
        True,
    )
    assert world.fabrikam.lockbox_available is False
    assert (world.northwind.lockbox_available, world.northwind.lockbox_enabled) == (True, False)
    assert world.provider.name == "Provider Support" and world.provider.kind == "provider"
