"""The tenant's Lockbox policy over `GET|PUT /api/v1/settings/lockbox/` (SPEC section 9)."""

import pytest

from audit_app.models import AuditRecord
from tenants_app.models import Tenant

URL = "/api/v1/settings/lockbox/"
DEFAULTS = {
    "required_approvals": 1,
    "pending_ttl_hours": 12,  # LOCKBOX_PENDING_TTL_MINUTES 720 / 60
    "max_access_minutes": 480,  # LOCKBOX_MAX_ACCESS_MINUTES
    "require_decision_comment": False,
    "allow_emergency_access": False,
    "notification_emails": [],
    "require_mfa_for_decisions": False,
}
LABELS = {
    "required_approvals": "Number of approvals required",
    "pending_ttl_hours": "Time to decide (hours)",
    "max_access_minutes": "Longest access (minutes)",
    "require_decision_comment": "Require a comment to deny or revoke",
    "allow_emergency_access": "Allow emergency access",
    "notification_emails": "Also notify these addresses",
    "require_mfa_for_decisions": "Require a verified authenticator code for decisions and settings",
}


def put(client, body):
    return client.put(URL, body, format="json")


def setting_records(tenant=None):
    records = AuditRecord.objects.filter(operation="LockboxSettingChanged").order_by("seq")
    return list(records.filter(tenant=tenant) if tenant else records)


def stored(tenant) -> dict:
    tenant.refresh_from_db()
    return {name: getattr(tenant, name) for name in DEFAULTS}


def test_get_shows_the_policy_with_its_defaults(world, api):
    body = api(world.admin).get(URL).json()
    assert {name: body[name] for name in DEFAULTS} == DEFAULTS
    assert body["enabled"] is True and body["available"] is True


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("required_approvals", 3),
        ("pending_ttl_hours", 72),
        ("pending_ttl_hours", 1),
        ("max_access_minutes", 15),
        ("max_access_minutes", 90),
        ("require_decision_comment", True),
        ("allow_emergency_access", True),
        ("notification_emails", ["secops@contoso.example", "Soc@Contoso.Example"]),
    ],
)
def test_put_changes_one_field_and_audits_its_old_and_new_value(world, api, field, value):
    response = put(api(world.admin), {field: value})
    assert response.status_code == 200, response.json()
    assert response.json()[field] == value
    assert response.json()["updated_by"] == "admin@contoso.example"
    assert stored(world.contoso) == {**DEFAULTS, field: value}
    assert world.contoso.lockbox_enabled is True  # not given, not touched
    [record] = setting_records()
    assert (record.tenant_id, record.actor, record.result) == (
        world.contoso.pk,
        "admin@contoso.example",
        "success",
    )
    assert record.record_type == "CustomerLockboxSettings"
    assert (record.object_type, record.object_id) == ("Tenant", "contoso")
    assert record.details == {
        "setting": LABELS[field],
        "field": field,
        "old_value": DEFAULTS[field],
        "new_value": value,
    }
    assert api(world.admin).get(URL).json()[field] == value


def test_one_record_per_changed_field_and_none_for_an_unchanged_one(world, api):
    body = {
        "enabled": False,
        "required_approvals": 2,
        "pending_ttl_hours": 12,  # unchanged
        "allow_emergency_access": True,
        "notification_emails": ["soc@contoso.example"],
    }
    assert put(api(world.admin), body).status_code == 200
    changes = [
        (r.details["field"], r.details["old_value"], r.details["new_value"])
        for r in setting_records()
    ]
    assert changes == [
        ("enabled", True, False),
        ("required_approvals", 1, 2),
        ("allow_emergency_access", False, True),
        ("notification_emails", [], ["soc@contoso.example"]),
    ]
    assert setting_records()[0].details["setting"] == (
        "Require approval for all data access requests"
    )
    # The same PUT again changes nothing and writes nothing, not even the "last changed".
    world.contoso.refresh_from_db()
    changed_at = world.contoso.lockbox_updated_at
    assert put(api(world.admin), body).status_code == 200
    assert len(setting_records()) == 4
    world.contoso.refresh_from_db()
    assert world.contoso.lockbox_updated_at == changed_at


def test_a_put_with_only_enabled_works_as_before_and_keeps_the_policy(world, api):
    admin = api(world.admin)
    assert put(admin, {"required_approvals": 2}).status_code == 200
    response = put(admin, {"enabled": False})
    assert response.status_code == 200
    assert (response.json()["enabled"], response.json()["required_approvals"]) == (False, 2)
    assert [r.details["field"] for r in setting_records()] == ["required_approvals", "enabled"]


def test_the_answer_of_a_get_can_be_put_back(world, api):
    admin = api(world.admin)
    body = admin.get(URL).json()
    body["required_approvals"] = 2
    response = put(admin, body)  # available, updated_at, updated_by are ignored
    assert response.status_code == 200 and response.json()["required_approvals"] == 2
    assert [r.details["field"] for r in setting_records()] == ["required_approvals"]


TWENTY_ONE = [f"person{i}@contoso.example" for i in range(21)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("required_approvals", 0, "from 1 to 3"),
        ("required_approvals", 4, "from 1 to 3"),
        ("required_approvals", "2", "from 1 to 3"),
        ("required_approvals", 2.5, "from 1 to 3"),
        ("required_approvals", True, "from 1 to 3"),
        ("required_approvals", None, "from 1 to 3"),
        ("pending_ttl_hours", 0, "from 1 to 72"),
        ("pending_ttl_hours", 73, "from 1 to 72"),
        ("max_access_minutes", 14, "from 15 to 480"),
        ("max_access_minutes", 481, "from 15 to 480"),
        ("max_access_minutes", [60], "from 15 to 480"),
        ("require_decision_comment", "true", "true or false"),
        ("require_decision_comment", 1, "true or false"),
        ("allow_emergency_access", None, "true or false"),
        ("enabled", "yes", "true or false"),
        ("notification_emails", "soc@contoso.example", "list of e-mail addresses"),
        ("notification_emails", {"a": "soc@contoso.example"}, "list of e-mail addresses"),
        ("notification_emails", ["not-an-address"], "'not-an-address' is not a valid"),
        ("notification_emails", ["soc@contoso"], "is not a valid"),
        ("notification_emails", [""], "is not a valid"),
        ("notification_emails", [42], "'42' is not a valid"),
        ("notification_emails", ["x" * 250 + "@contoso.example"], "is not a valid"),
        (
            "notification_emails",
            ["soc@contoso.example", "SOC@contoso.example"],
            "'SOC@contoso.example' is listed more than once",
        ),
        ("notification_emails", TWENTY_ONE, "at most 20 addresses (21 given)"),
        ("colour", "blue", "Unknown setting"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_writes_nothing(
    world, api, field, value, message
):
    before = stored(world.contoso)
    # A good change alongside the bad one is not half-applied.
    response = put(api(world.admin), {"pending_ttl_hours": 24, field: value})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["detail", field]
    assert any(message in text for text in body[field]), body
    assert message in body["detail"]
    assert stored(world.contoso) == before
    assert setting_records() == []


def test_twenty_distinct_addresses_are_allowed(world, api):
    response = put(api(world.admin), {"notification_emails": TWENTY_ONE[:20]})
    assert response.status_code == 200
    assert stored(world.contoso)["notification_emails"] == TWENTY_ONE[:20]


def test_several_bad_fields_are_each_named(world, api):
    body = put(api(world.admin), {"required_approvals": 9, "pending_ttl_hours": -1}).json()
    assert body["required_approvals"] == ["Enter a whole number from 1 to 3."]
    assert body["pending_ttl_hours"] == ["Enter a whole number from 1 to 72."]


@pytest.mark.parametrize(
    "body", [{}, [], ["required_approvals"], {"actor": 1}, {"changes": {"enabled": False}}]
)
def test_a_body_with_no_known_setting_is_a_400(world, api, body):
    response = put(api(world.admin), body)
    assert response.status_code == 400
    assert response.json()["detail"]
    assert setting_records() == []


def test_an_approver_may_not_change_the_policy_and_the_refusal_is_audited(world, api):
    before = stored(world.contoso)
    response = put(api(world.approver), {"required_approvals": 2})
    assert response.status_code == 403
    # The role is checked before the values: a bad value from an approver is still a 403.
    assert put(api(world.approver2), {"required_approvals": 99}).status_code == 403
    assert put(api(world.auditor), {"allow_emergency_access": True}).status_code == 403
    assert stored(world.contoso) == before
    refusals = [(r.actor, r.result) for r in setting_records(world.contoso)]
    assert refusals == [
        ("approver@contoso.example", "failure"),
        ("approver2@contoso.example", "failure"),
        ("auditor@contoso.example", "failure"),
    ]


def test_provider_staff_have_no_policy(world, api):
    assert api(world.engineer).get(URL).status_code == 404
    assert put(api(world.manager), {"required_approvals": 2}).status_code == 404
    assert setting_records() == []


def test_the_policy_cannot_be_set_where_lockbox_is_unavailable(world, api):
    fabrikam = api(world.fabrikam_admin)
    response = put(fabrikam, {"required_approvals": 2})
    assert response.status_code == 400 and "not available" in response.json()["detail"]
    assert stored(world.fabrikam)["required_approvals"] == 1
    # Sending what is already there is not a change, and is not refused.
    assert put(fabrikam, {"required_approvals": 1, "enabled": False}).status_code == 200
    # Northwind has the add-on: its policy may be set before it turns Lockbox on.
    assert put(api(world.northwind_admin), {"required_approvals": 2}).status_code == 200


def test_each_tenant_changes_only_its_own_policy(world, api):
    assert put(api(world.tailspin_admin), {"required_approvals": 3}).status_code == 200
    assert stored(world.tailspin)["required_approvals"] == 3
    assert stored(world.contoso)["required_approvals"] == 1
    assert [r.tenant_id for r in setting_records()] == [world.tailspin.pk]
    assert api(world.admin).get(URL).json()["required_approvals"] == 1
    assert api(world.tailspin_admin).get(URL).json()["required_approvals"] == 3


def test_a_deployment_with_a_shorter_longest_access_narrows_the_bound(world, api, settings):
    settings.LOCKBOX_MAX_ACCESS_MINUTES = 240
    # Contoso stored 480 before: what it is shown is what is enforced now.
    assert api(world.admin).get(URL).json()["max_access_minutes"] == 240
    response = put(api(world.admin), {"max_access_minutes": 300})
    assert response.status_code == 400
    assert response.json()["max_access_minutes"] == ["Enter a whole number from 15 to 240."]
    assert put(api(world.admin), {"max_access_minutes": 240}).status_code == 200


def test_the_openapi_schema_describes_the_policy(world, api):
    schema = api(world.admin).get("/api/v1/schema/?format=json").json()
    components = schema["components"]["schemas"]
    shown = components["LockboxSetting"]["properties"]
    assert shown["required_approvals"]["minimum"] == 1
    assert shown["required_approvals"]["maximum"] == 3
    assert (shown["pending_ttl_hours"]["minimum"], shown["pending_ttl_hours"]["maximum"]) == (1, 72)
    assert (shown["max_access_minutes"]["minimum"], shown["max_access_minutes"]["maximum"]) == (
        15,
        480,
    )
    assert shown["notification_emails"]["maxItems"] == 20
    assert shown["notification_emails"]["items"]["format"] == "email"
    assert set(DEFAULTS) <= set(components["LockboxSetting"]["required"])
    given = components["LockboxSettingInputRequest"]
    assert set(given["properties"]) == {"enabled", *DEFAULTS}
    assert "required" not in given  # a PUT may hold any of them


def test_a_new_tenant_takes_the_defaults_from_the_environment(db, settings):
    settings.LOCKBOX_PENDING_TTL_MINUTES = 61
    settings.LOCKBOX_MAX_ACCESS_MINUTES = 300
    tenant = Tenant.objects.create(name="New", slug="new", plan="E5")
    assert (tenant.pending_ttl_hours, tenant.max_access_minutes) == (2, 300)
    settings.LOCKBOX_PENDING_TTL_MINUTES = 100_000  # beyond the SPEC's 72 hours
    assert Tenant.objects.create(name="Long", slug="long").pending_ttl_hours == 72
