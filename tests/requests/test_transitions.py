"""Every transition of SPEC section 2, and every refusal."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit_app.models import AuditRecord
from lockbox_site.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from requests_app import services
from requests_app.models import AccessRequest, OutboxMessage, Ticket, Webhook
from tests.conftest import operations_of, refusals_of


def test_it_creates_a_pending_request_with_its_audit_record(world, make_request):
    access_request = make_request()
    assert access_request.status == "pending_internal"
    assert access_request.tenant == world.contoso
    assert access_request.expires_at - access_request.created_at == timedelta(minutes=720)
    record = AuditRecord.objects.get(request_id=access_request.pk)
    assert record.operation == "RequestCreated"
    assert record.record_type == "Windows365CustomerLockbox"
    assert record.actor == "engineer@provider.example"
    assert record.actor_type == "provider"
    assert record.tenant == world.contoso
    assert record.details["cloud_pcs"][0]["name"] == world.contoso_pcs[0].name


def test_manager_approval_waits_for_the_customer_when_lockbox_is_on(world, make_request):
    access_request = make_request(stage="pending_customer")
    assert access_request.status == "pending_customer"
    assert access_request.window_starts_at is None
    assert operations_of(access_request) == ["RequestCreated", "RequestInternallyApproved"]


def test_customer_approval_opens_the_window_for_the_duration(world, make_request):
    access_request = make_request(stage="pending_customer", duration=30)
    with time_machine.travel(timezone.now() + timedelta(minutes=5), tick=False):
        approved = services.access_request_approve(
            actor=world.approver, access_request_id=access_request.pk, comment="ok for today"
        )
        assert approved.status == "approved"
        assert approved.window_starts_at == timezone.now()
        assert approved.window_ends_at == timezone.now() + timedelta(minutes=30)
    assert operations_of(access_request)[-1] == "RequestApproved"
    record = AuditRecord.objects.filter(request_id=access_request.pk).latest("seq")
    assert record.details["comment"] == "ok for today"
    assert record.actor_type == "customer"
    decision = approved.decisions.get(stage="customer")
    assert (decision.actor, decision.comment) == (world.approver, "ok for today")


def test_lockbox_off_approves_automatically_as_the_system(world, make_request):
    access_request = make_request(world.northwind, stage="pending_customer")
    assert access_request.status == "approved"
    assert access_request.auto_approved is True
    assert access_request.window_ends_at - access_request.window_starts_at == timedelta(minutes=60)
    assert operations_of(access_request) == [
        "RequestCreated",
        "RequestInternallyApproved",
        "RequestAutoApproved",
    ]
    auto = AuditRecord.objects.get(request_id=access_request.pk, operation="RequestAutoApproved")
    assert (auto.actor, auto.actor_type, auto.details["auto_approved"]) == (
        "System",
        "system",
        True,
    )
    decision = access_request.decisions.get(stage="customer")
    assert decision.automatic and decision.actor is None


@pytest.mark.parametrize(
    ("who", "service"),
    [
        ("manager", "access_request_internal_deny"),
        ("approver", "access_request_deny"),
    ],
)
def test_denials_at_each_stage(world, make_request, who, service):
    stage = "pending_internal" if who == "manager" else "pending_customer"
    access_request = make_request(stage=stage)
    denied = getattr(services, service)(
        actor=getattr(world, who), access_request_id=access_request.pk, comment="no"
    )
    assert denied.status == "denied"
    expected = "RequestInternallyDenied" if who == "manager" else "RequestDenied"
    assert operations_of(access_request)[-1] == expected


def test_engineer_cancels_a_pending_request(world, make_request):
    access_request = make_request(stage="pending_customer")
    cancelled = services.access_request_cancel(
        actor=world.engineer, access_request_id=access_request.pk
    )
    assert cancelled.status == "cancelled"
    assert operations_of(access_request)[-1] == "RequestCancelled"


def test_customer_revokes_an_open_window(world, make_request):
    access_request = make_request(stage="approved")
    revoked = services.access_request_revoke(
        actor=world.admin, access_request_id=access_request.pk, comment="done"
    )
    assert revoked.status == "revoked"
    assert revoked.window_ends_at <= timezone.now()
    assert operations_of(access_request)[-1] == "AccessRevoked"


def test_it_refuses_self_approval(world, make_request, django_user_model):
    from django.contrib.auth.models import Group

    # A manager who is also an engineer creates a request, then tries to approve it.
    world.manager.groups.add(Group.objects.get(name="Support Engineer"))
    access_request = make_request(engineer=world.manager)
    with pytest.raises(NotAllowed, match="you created"):
        services.access_request_internal_approve(
            actor=world.manager, access_request_id=access_request.pk
        )
    assert AccessRequest.objects.get(pk=access_request.pk).status == "pending_internal"
    assert operations_of(access_request) == ["RequestCreated"]
    assert refusals_of(access_request) == [("RequestInternallyApproved", world.manager.username)]


@pytest.mark.parametrize(
    ("stage", "who", "service"),
    [
        ("pending_internal", "engineer", "access_request_internal_approve"),
        ("pending_customer", "manager", "access_request_approve"),
        ("pending_customer", "engineer", "access_request_deny"),
        ("approved", "engineer", "access_request_revoke"),
        ("pending_customer", "approver", "access_request_cancel"),
    ],
)
def test_it_refuses_the_wrong_role(world, make_request, stage, who, service):
    access_request = make_request(stage=stage)
    before = operations_of(access_request)
    actor = getattr(world, who)
    with pytest.raises(NotAllowed):
        getattr(services, service)(actor=actor, access_request_id=access_request.pk)
    assert AccessRequest.objects.get(pk=access_request.pk).status == stage
    assert operations_of(access_request) == before
    # The attempt itself is in the customer's log, as a failure.
    assert [actor_name for _, actor_name in refusals_of(access_request)] == [actor.username]


def test_it_refuses_an_audit_reader_and_hides_requests_from_it(world, make_request):
    access_request = make_request(stage="pending_customer")
    with pytest.raises(NotFound):
        services.access_request_decide(
            actor=world.auditor, access_request_id=access_request.pk, approve=True
        )


@pytest.mark.parametrize(
    ("stage", "service", "who"),
    [
        # (A customer approver cannot even see a request pending internal approval: 404,
        # tests/requests/test_customer_visibility.py.)
        ("pending_customer", "access_request_internal_approve", "manager"),
        ("approved", "access_request_approve", "approver"),
        ("approved", "access_request_cancel", "engineer"),
        ("pending_customer", "access_request_revoke", "approver"),
    ],
)
def test_it_refuses_the_wrong_state_with_409(world, make_request, stage, service, who):
    access_request = make_request(stage=stage)
    before = operations_of(access_request)
    with pytest.raises(InvalidState) as caught:
        getattr(services, service)(actor=getattr(world, who), access_request_id=access_request.pk)
    assert caught.value.status_code == 409
    assert operations_of(access_request) == before


def test_it_hides_other_tenants_requests(world, make_request):
    access_request = make_request(stage="pending_customer")
    with pytest.raises(NotFound):
        services.access_request_approve(
            actor=world.northwind_admin, access_request_id=access_request.pk
        )
    with pytest.raises(NotFound):
        services.access_request_revoke(
            actor=world.fabrikam_admin, access_request_id=access_request.pk
        )


@pytest.mark.parametrize("duration", [0, 14, 481, "abc", 1.5, True, [60]])
def test_it_refuses_a_duration_out_of_bounds(world, duration):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    with pytest.raises(InvalidInput, match="duration_minutes"):
        services.access_request_create(
            actor=world.engineer,
            ticket_id=ticket.pk,
            cloud_pc_ids=[world.contoso_pcs[0].pk],
            reason="r",
            duration_minutes=duration,
        )
    assert not AccessRequest.objects.exists()
    assert not AuditRecord.objects.exists()


def test_it_uses_the_default_duration(world):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    access_request = services.access_request_create(
        actor=world.engineer,
        ticket_id=ticket.pk,
        cloud_pc_ids=[world.contoso_pcs[0].pk],
        reason="r",
    )
    assert access_request.duration_minutes == 240


def test_it_refuses_a_cloud_pc_of_another_tenant(world):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    with pytest.raises(InvalidInput, match="do not belong"):
        services.access_request_create(
            actor=world.engineer,
            ticket_id=ticket.pk,
            cloud_pc_ids=[world.contoso_pcs[0].pk, world.northwind_pcs[0].pk],
            reason="r",
            duration_minutes=60,
        )
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", None, 5])
def test_it_refuses_a_missing_reason(world, reason):
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="contoso", title="t")
    with pytest.raises(InvalidInput):
        services.access_request_create(
            actor=world.engineer,
            ticket_id=ticket.pk,
            cloud_pc_ids=[world.contoso_pcs[0].pk],
            reason=reason,
            duration_minutes=60,
        )


def test_only_engineers_request_access_and_only_on_open_tickets(world, make_request):
    access_request = make_request()
    with pytest.raises(NotAllowed):
        services.access_request_create(
            actor=world.admin,
            ticket_id=access_request.ticket_id,
            cloud_pc_ids=[world.contoso_pcs[0].pk],
            reason="r",
        )
    services.ticket_close(actor=world.engineer, ticket_id=access_request.ticket_id)
    with pytest.raises(InvalidState):
        services.access_request_create(
            actor=world.engineer,
            ticket_id=access_request.ticket_id,
            cloud_pc_ids=[world.contoso_pcs[0].pk],
            reason="r",
        )


def test_a_decision_after_the_pending_deadline_is_refused_before_the_sweep(world, make_request):
    access_request = make_request(stage="pending_customer")
    with time_machine.travel(access_request.expires_at + timedelta(seconds=1), tick=False):
        with pytest.raises(InvalidState, match="expired"):
            services.access_request_approve(
                actor=world.approver, access_request_id=access_request.pk
            )


def test_closing_a_ticket_ends_windows_and_cancels_pending_requests(world, make_request):
    active = make_request(stage="approved")
    ticket = active.ticket
    pending = services.access_request_create(
        actor=world.engineer,
        ticket_id=ticket.pk,
        cloud_pc_ids=[world.contoso_pcs[1].pk],
        reason="second look",
        duration_minutes=60,
    )
    services.ticket_close(actor=world.manager, ticket_id=ticket.pk)
    active.refresh_from_db()
    pending.refresh_from_db()
    assert active.status == "completed" and active.window_ends_at <= timezone.now()
    assert pending.status == "cancelled"
    assert Ticket.objects.get(pk=ticket.pk).status == "completed"
    assert operations_of(active)[-1] == "AccessExpired"
    assert operations_of(pending)[-1] == "RequestCancelled"
    with pytest.raises(InvalidState):
        services.ticket_close(actor=world.engineer, ticket_id=ticket.pk)


def test_a_cancel_after_the_pending_deadline_is_refused_before_the_sweep(world, make_request, api):
    access_request = make_request(stage="pending_customer")
    with time_machine.travel(access_request.expires_at + timedelta(seconds=1), tick=False):
        with pytest.raises(InvalidState, match="expired"):
            services.access_request_cancel(
                actor=world.engineer, access_request_id=access_request.pk
            )
        response = api(world.engineer).post(f"/api/v1/requests/{access_request.pk}/cancel/")
        assert response.status_code == 409
    assert operations_of(access_request)[-1] == "RequestInternallyApproved"
    assert AccessRequest.objects.get(pk=access_request.pk).status == "pending_customer"


def test_closing_a_ticket_tells_of_each_cancelled_request_like_a_cancel_does(world, make_request):
    Webhook.objects.create(tenant=world.contoso, url="https://hooks.example.com/in", secret="s")
    explicit = make_request(stage="pending_customer")
    services.access_request_cancel(actor=world.engineer, access_request_id=explicit.pk)
    by_ticket = make_request(stage="pending_customer")
    services.ticket_close(actor=world.manager, ticket_id=by_ticket.ticket_id)

    def told(access_request):
        return sorted(
            (m.kind, m.payload["event"])
            for m in OutboxMessage.objects.filter(payload__request_id=access_request.pk)
            | OutboxMessage.objects.filter(payload__request__id=access_request.pk)
            if m.payload["event"] == "request.cancelled"
        )

    assert told(explicit) == [("email", "request.cancelled"), ("webhook", "request.cancelled")]
    assert told(by_ticket) == told(explicit)


def test_closing_a_ticket_records_an_overdue_request_as_expired_not_cancelled(world, make_request):
    access_request = make_request(stage="pending_customer")
    with time_machine.travel(access_request.expires_at + timedelta(minutes=1), tick=False):
        services.ticket_close(actor=world.engineer, ticket_id=access_request.ticket_id)
    access_request.refresh_from_db()
    assert access_request.status == "expired"
    assert operations_of(access_request)[-1] == "RequestExpired"
    assert Ticket.objects.get(pk=access_request.ticket_id).status == "completed"


def test_an_approval_reads_the_decisions_once(world, make_request):
    """Issue 17: the checks, the quorum, the window, the audit details and the API's response
    share one read of the request's decisions (the approval adds its own to it), and the Cloud
    PCs the statement signs are the ones the response shows, read once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    access_request = make_request(stage="pending_customer")
    token = AuthToken.objects.create(world.approver)[1]
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as captured:
        response = client.post(f"/api/v1/requests/{access_request.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert [a["by"] for a in response.json()["approvals"]] == [world.approver.username]
    sent = [q["sql"] for q in captured.captured_queries]
    reads = [sql for sql in sent if sql.startswith("SELECT")]
    assert sum('FROM "requests_app_decision"' in sql for sql in reads) == 1
    assert sum('FROM "tenants_app_cloudpc"' in sql for sql in reads) == 1
    # The token with its user, tenant and groups, the locked request (with whether it has
    # messages and its tenant webhooks: neither, so neither is read; and its decisions and
    # Cloud PCs, as JSON columns of the same statement) and the chain head (on PostgreSQL the
    # head is locked, the record appended and the head advanced by lockbox_audit_append).
    locking = next(sql for sql in reads if '"decisions_rows"' in sql)
    assert 'FROM "requests_app_decision"' in locking and 'FROM "tenants_app_cloudpc"' in locking
    assert not any(sql.startswith('SELECT "auth_group"') for sql in reads)
    assert not any(sql.startswith('SELECT "requests_app_requestmessage"') for sql in reads)
    assert not any(sql.startswith('SELECT "requests_app_webhook"') for sql in reads)
    assert len(reads) == 3, reads
    # The request and the decision (one statement on PostgreSQL), the record with the head's
    # advance (in the chain head's statement above on PostgreSQL, two more on SQLite) and the
    # outbox message.
    writes = [sql for sql in sent if sql.startswith(("INSERT", "UPDATE", "WITH"))]
    assert len(writes) == (2 if connection.vendor == "postgresql" else 5), writes


def test_a_transition_shows_the_messages_it_read_or_wrote(world, make_request):
    """The locking read says whether the request has messages (issue 17): one without them
    shows none without reading them (test above), a question asked shows at once, and a
    request with messages reads and shows them all."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    def client(user):
        return APIClient(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")

    access_request = make_request(stage="pending_customer")
    url = f"/api/v1/requests/{access_request.pk}"
    asked = client(world.approver).post(f"{url}/request-info/", {"question": "Which user?"})
    assert asked.status_code == 200
    assert [(m["kind"], m["text"]) for m in asked.json()["messages"]] == [
        ("question", "Which user?")
    ]
    answered = client(world.engineer).post(f"{url}/answer/", {"answer": "alex"})
    assert [(m["kind"], m["by"]) for m in answered.json()["messages"]] == [
        ("question", world.approver.username),
        ("answer", world.engineer.username),
    ]
    with CaptureQueriesContext(connection) as captured:
        approved = client(world.approver).post(f"{url}/approve/")
    assert approved.json()["status"] == "approved"
    assert [m["text"] for m in approved.json()["messages"]] == ["Which user?", "alex"]
    reads = [q["sql"] for q in captured.captured_queries]
    assert sum(sql.startswith('SELECT "requests_app_requestmessage"') for sql in reads) == 1
    # What the API shows is what a fresh read of the request shows.
    fresh = client(world.approver).get(f"{url}/").json()
    assert fresh["messages"] == approved.json()["messages"]


def test_a_decision_reads_the_webhooks_only_of_a_tenant_that_enabled_one(world, make_request):
    """The locking read says whether the tenant has an enabled webhook (issue 17): the event is
    written to each enabled endpoint as before, and without one nothing is read or written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def approve():
        access_request = make_request(stage="pending_customer")
        before = list(OutboxMessage.objects.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as captured:
            services.access_request_approve(
                actor=world.approver, access_request_id=access_request.pk
            )
        read = sum(
            q["sql"].startswith('SELECT "requests_app_webhook"') for q in captured.captured_queries
        )
        events = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.WEBHOOK).exclude(
            pk__in=before
        )
        return read, [(m.webhook_id, m.payload["event"]) for m in events]

    assert approve() == (0, [])
    webhook = Webhook.objects.create(
        tenant=world.contoso, url="https://hooks.contoso.example/lockbox", secret="s"
    )
    Webhook.objects.create(tenant=world.fabrikam, url="https://hooks.fabrikam.example/", secret="s")
    assert approve() == (1, [(webhook.pk, "request.approved")])
    Webhook.objects.filter(pk=webhook.pk).update(disabled_at=timezone.now())
    assert approve() == (0, [])
