"""Every (state, action, role): what SPEC sections 2 and 8 allow happens, everything else is
refused without a trace but its refusal; and what the page and the API offer is exactly what
would succeed.

The expected outcomes are written out here from the SPEC, not read from the production table.
"""

import re

import pytest
from django.contrib.auth.models import Group

from audit_app.models import AuditRecord
from lockbox_site.errors import ApplicationError
from requests_app import services
from requests_app.models import AccessRequest
from tenants_app.models import Tenant, User
from tests.conftest import operations_of, refusals_of

STATES = (
    "pending_internal",
    "pending_customer",
    "info_requested",
    "approved",
    "emergency",  # approved by a Support Manager's emergency access, its review pending
    "denied",
    "cancelled",
    "expired",
    "revoked",
    "completed",
)
ROLES = (
    "engineer",  # the requester
    "other_engineer",
    "manager",
    "approver",
    "admin",
    "auditor",
    "other_tenant_admin",
)
# action -> (service, its inputs, its audit operation, the roles that may ever take it)
ACTIONS = {
    "internal_approve": (
        "access_request_internal_approve",
        {},
        "RequestInternallyApproved",
        {"manager"},
    ),
    "internal_deny": ("access_request_internal_deny", {}, "RequestInternallyDenied", {"manager"}),
    "emergency_approve": (
        "access_request_emergency_approve",
        {"comment": "Production alert P1"},
        "EmergencyAccessGranted",
        {"manager"},
    ),
    "approve": ("access_request_approve", {}, "RequestApproved", {"approver", "admin"}),
    "deny": ("access_request_deny", {}, "RequestDenied", {"approver", "admin"}),
    "request_info": (
        "access_request_request_info",
        {"question": "Which error do you see?"},
        "InformationRequested",
        {"approver", "admin"},
    ),
    "answer": (
        "access_request_answer",
        {"answer": "Error 0x8007"},
        "InformationProvided",
        {"engineer"},
    ),
    "cancel": ("access_request_cancel", {}, "RequestCancelled", {"engineer"}),
    "revoke": ("access_request_revoke", {}, "AccessRevoked", {"approver", "admin"}),
    # An extension is a new request: its RequestCreated is written on the new one.
    "extend": (
        "access_request_extend",
        {"reason": "Need 30 more minutes", "duration_minutes": 30},
        "RequestCreated",
        {"engineer"},
    ),
    "review": (
        "access_request_review",
        {"outcome": "accepted"},
        "EmergencyAccessReviewed",
        {"approver", "admin"},
    ),
}
# (state, action) -> the state it leads to, for a role that may take the action.
LEADS_TO = {
    ("pending_internal", "internal_approve"): "pending_customer",
    ("pending_internal", "internal_deny"): "denied",
    ("pending_internal", "emergency_approve"): "approved",
    ("pending_customer", "emergency_approve"): "approved",
    ("pending_customer", "approve"): "approved",
    ("pending_customer", "deny"): "denied",
    ("pending_customer", "request_info"): "info_requested",
    ("info_requested", "deny"): "denied",
    ("info_requested", "answer"): "pending_customer",
    ("pending_internal", "cancel"): "cancelled",
    ("pending_customer", "cancel"): "cancelled",
    ("info_requested", "cancel"): "cancelled",
    ("approved", "revoke"): "revoked",
    ("emergency", "revoke"): "revoked",
    ("approved", "extend"): "approved",
    ("emergency", "extend"): "approved",
    ("emergency", "review"): "approved",
}
# Engineers see only their own requests; an audit reader and another tenant see none; the
# customer sees a request once it passed internal approval (SPEC 8).
NEVER_SEES = {"other_engineer", "auditor", "other_tenant_admin"}
CUSTOMER = {"approver", "admin"}


def expected(state: str, action: str, role: str) -> str | int:
    """The state reached, or the HTTP status of the refusal."""
    if role in NEVER_SEES or (role in CUSTOMER and state == "pending_internal"):
        return 404
    if role not in ACTIONS[action][3]:
        return 403
    return LEADS_TO.get((state, action), 409)


@pytest.fixture
def cast(world):
    other = User.objects.create_user(
        username="engineer2@provider.example",
        email="engineer2@provider.example",
        password="x",
        tenant=world.provider,
    )
    other.groups.add(Group.objects.get(name="Support Engineer"))
    return {
        "engineer": world.engineer,
        "other_engineer": other,
        "manager": world.manager,
        "approver": world.approver,
        "admin": world.admin,
        "auditor": world.auditor,
        "other_tenant_admin": world.fabrikam_admin,
    }


@pytest.fixture
def request_in(world):
    """A fresh request of the engineer's in the given state, reached the way production does.

    Contoso allows emergency access here, and every request is a production alert of an hour,
    so that emergency access is possible wherever its state allows it.
    """
    Tenant.objects.filter(pk=world.contoso.pk).update(allow_emergency_access=True)

    def _in(state: str) -> AccessRequest:
        ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="P1")
        access_request = services.access_request_create(
            actor=world.engineer,
            ticket_id=ticket.pk,
            cloud_pc_ids=[world.contoso_pcs[0].pk],
            reason="Sign-in outage",
            reason_type="response_to_production_alert",
            duration_minutes=60,
        )
        pk = access_request.pk
        if state == "emergency":
            services.access_request_emergency_approve(
                actor=world.manager, access_request_id=pk, comment="P1 outage"
            )
        elif state != "pending_internal":
            services.access_request_internal_approve(actor=world.manager, access_request_id=pk)
        if state in ("approved", "revoked", "completed"):
            services.access_request_approve(actor=world.approver, access_request_id=pk)
        if state == "info_requested":
            services.access_request_request_info(
                actor=world.approver, access_request_id=pk, question="Which user?"
            )
        elif state == "denied":
            services.access_request_deny(actor=world.approver, access_request_id=pk)
        elif state == "cancelled":
            services.access_request_cancel(actor=world.engineer, access_request_id=pk)
        elif state == "expired":
            assert services.access_request_expire(
                access_request_id=pk, now=access_request.expires_at
            )
        elif state == "revoked":
            services.access_request_revoke(actor=world.admin, access_request_id=pk)
        elif state == "completed":
            ends = AccessRequest.objects.get(pk=pk).window_ends_at
            assert services.access_request_complete(access_request_id=pk, now=ends)
        access_request.refresh_from_db()
        assert access_request.status == ("approved" if state == "emergency" else state)
        return access_request

    return _in


def _records(access_request):
    return operations_of(access_request), refusals_of(access_request)


def _extensions(access_request) -> list[int]:
    return list(AccessRequest.objects.filter(extends=access_request).values_list("pk", flat=True))


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_state_action_and_role(cast, request_in, state, action):
    service, inputs, operation, _ = ACTIONS[action]
    for role, actor in cast.items():
        access_request = request_in(state)
        status_before = access_request.status
        successes, refusals = _records(access_request)
        want = expected(state, action, role)
        try:
            result = getattr(services, service)(
                actor=actor, access_request_id=access_request.pk, **inputs
            )
        except ApplicationError as exc:
            got = exc.status_code
        else:
            got = AccessRequest.objects.get(pk=access_request.pk).status
        assert got == want, (state, action, role)
        if isinstance(want, str) and action == "extend":
            # The request itself is unchanged; the new one carries the one record.
            assert _extensions(access_request) == [result.pk], role
            assert operations_of(access_request) == successes, role
            assert operations_of(result) == [operation], role
            continue
        if isinstance(want, str):
            assert operations_of(access_request) == [*successes, operation], role
            assert refusals_of(access_request) == refusals, role
            continue
        assert AccessRequest.objects.get(pk=access_request.pk).status == status_before, role
        assert operations_of(access_request) == successes, role
        assert _extensions(access_request) == [], role
        # A refused 403 is seen in the customer's log (SPEC 4); a 404 or a 409 leaves nothing.
        new_refusals = [(operation, actor.username)] if want == 403 else []
        assert refusals_of(access_request) == [*refusals, *new_refusals], role


def test_an_internal_approval_where_lockbox_is_off_also_writes_the_automatic_approval(
    world, make_request
):
    access_request = make_request(world.northwind)
    services.access_request_internal_approve(
        actor=world.manager, access_request_id=access_request.pk
    )
    assert AccessRequest.objects.get(pk=access_request.pk).status == "approved"
    assert operations_of(access_request) == [
        "RequestCreated",
        "RequestInternallyApproved",
        "RequestAutoApproved",
    ]
    internal = AuditRecord.objects.get(
        request_id=access_request.pk, operation="RequestInternallyApproved"
    )
    assert internal.details["status"] == "approved"


# The page's buttons, by the action each one takes.
BUTTONS = {
    "approve": re.compile(r'value="approve">Approve</button>'),
    "deny": re.compile(r'value="deny">Deny</button>'),
    "request_info": re.compile(r">Request more information</button>"),
    "answer": re.compile(r">Send answer</button>"),
    "revoke": re.compile(r">Revoke</button>"),
    "cancel": re.compile(r">Cancel request</button>"),
    "extend": re.compile(r">Extend access</button>"),
    "emergency_approve": re.compile(r">Grant emergency access</button>"),
    "review": re.compile(r'value="accepted">Accept</button>'),
    "operate": re.compile(r">Restart CPC-"),
}
# The API's action paths and bodies.
API_ACTIONS = {
    "approve": ("approve", {}),
    "deny": ("deny", {}),
    "request_info": ("request-info", {"question": "Which user?"}),
    "answer": ("answer", {"answer": "alex@contoso.example"}),
    "cancel": ("cancel", {}),
    "revoke": ("revoke", {}),
    "extend": ("extend", {"reason": "More time", "duration_minutes": 30}),
    "emergency_approve": ("emergency-approve", {"comment": "P1 outage"}),
    "review": ("review", {"outcome": "accepted"}),
}


def _page_buttons(client, access_request) -> set[str] | None:
    response = client.get(f"/requests/{access_request.pk}/")
    if response.status_code == 404:
        return None
    assert response.status_code == 200
    html = response.content.decode()
    return {action for action, button in BUTTONS.items() if button.search(html)}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("state", STATES)
def test_what_is_offered_is_exactly_what_succeeds(
    cast, request_in, api, client, world, state, role
):
    actor = cast[role]
    client.force_login(actor)
    access_request = request_in(state)
    shown = api(actor).get(f"/api/v1/requests/{access_request.pk}/")
    offered = set(shown.json()["allowed_actions"]) if shown.status_code == 200 else set()
    assert shown.status_code in (200, 404)
    # The page shows exactly those buttons (and a request the API hides, the page hides too).
    buttons = _page_buttons(client, access_request)
    assert (buttons is None) == (shown.status_code == 404)
    assert (buttons or set()) == offered

    # Operating is acting on the request's Cloud PC under its grant.
    pc = access_request.cloud_pcs.get()
    restarted = api(actor).post(f"/api/v1/cloud-pcs/{pc.pk}/restart/")
    assert (restarted.status_code == 200) == ("operate" in offered), restarted.json()

    for action, (path, body) in API_ACTIONS.items():
        target = request_in(state)
        response = api(actor).post(f"/api/v1/requests/{target.pk}/{path}/", body, format="json")
        assert response.status_code in (200, 201, 403, 404, 409), response.json()
        succeeded = response.status_code in (200, 201)
        assert succeeded == (action in offered), (action, response.json())
