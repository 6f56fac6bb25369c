"""The fixed cast every test shares: the demo world of SPEC section 5, and helpers."""

import os
from types import SimpleNamespace

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from audit_app.models import AuditRecord
from requests_app import services
from tenants_app.models import CloudPC, Tenant, User

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_service(available: bool, what: str) -> None:
    """Skip a test whose service is missing on a laptop; in CI the same gap is a failure."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} is not available")


@pytest.fixture
def world(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    users = {u.username: u for u in User.objects.all()}
    tenants = {t.slug: t for t in Tenant.objects.all()}
    return SimpleNamespace(
        engineer=users["engineer@provider.example"],
        manager=users["manager@provider.example"],
        admin=users["admin@contoso.example"],
        approver=users["approver@contoso.example"],
        auditor=users["auditor@contoso.example"],
        fabrikam_admin=users["admin@fabrikam.example"],
        northwind_admin=users["admin@northwind.example"],
        approver2=users["approver2@contoso.example"],
        tailspin_admin=users["admin@tailspin.example"],
        tailspin_approver=users["approver@tailspin.example"],
        contoso=tenants["contoso"],
        fabrikam=tenants["fabrikam"],
        northwind=tenants["northwind"],
        provider=tenants["provider-support"],
        tailspin=tenants["tailspin"],
        contoso_pcs=list(CloudPC.objects.filter(tenant=tenants["contoso"]).order_by("pk")),
        northwind_pcs=list(CloudPC.objects.filter(tenant=tenants["northwind"]).order_by("pk")),
        fabrikam_pcs=list(CloudPC.objects.filter(tenant=tenants["fabrikam"]).order_by("pk")),
        tailspin_pcs=list(CloudPC.objects.filter(tenant=tenants["tailspin"]).order_by("pk")),
    )


@pytest.fixture
def make_request(world):
    """Open a ticket for a tenant and create a pending request on it (or move it further)."""

    def _make(tenant=None, *, pcs=None, duration=60, stage="pending_internal", engineer=None):
        tenant = tenant or world.contoso
        engineer = engineer or world.engineer
        pcs = pcs or list(CloudPC.objects.filter(tenant=tenant).order_by("pk")[:1])
        ticket = services.ticket_open(actor=engineer, tenant_slug=tenant.slug, title="Slow sign-in")
        access_request = services.access_request_create(
            actor=engineer,
            ticket_id=ticket.pk,
            cloud_pc_ids=[pc.pk for pc in pcs],
            reason="Investigate slow sign-in",
            duration_minutes=duration,
        )
        if stage in ("pending_customer", "approved"):
            access_request = services.access_request_internal_approve(
                actor=world.manager, access_request_id=access_request.pk
            )
        if stage == "approved" and access_request.status == "pending_customer":
            # Approvers first, then Global Administrators, until the tenant's quorum is met.
            approvers = list(
                User.objects.filter(tenant=tenant, groups__name="Customer Lockbox Access Approver")
                .order_by("pk")
                .distinct()
            ) + list(User.objects.filter(tenant=tenant, groups__name="Global Administrator"))
            for approver in approvers:
                access_request = services.access_request_approve(
                    actor=approver, access_request_id=access_request.pk
                )
                if access_request.status == "approved":
                    break
        access_request.refresh_from_db()
        return access_request

    return _make


@pytest.fixture
def api():
    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _client


def operations_of(access_request) -> list[str]:
    """The changes recorded for a request (refused attempts are in refusals_of)."""
    return list(
        AuditRecord.objects.filter(request_id=access_request.pk, result="success")
        .order_by("seq")
        .values_list("operation", flat=True)
    )


def refusals_of(access_request) -> list[tuple[str, str]]:
    return list(
        AuditRecord.objects.filter(request_id=access_request.pk, result="failure")
        .order_by("seq")
        .values_list("operation", "actor")
    )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(autouse=True)
def _broker_circuit_closed(monkeypatch):
    """Every test starts with the publish circuit breaker closed (it is per process)."""
    from requests_app.services import outbox

    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counts live in the shared cache: each test starts from none, as each test's
    database starts empty, so one test's sign-in attempts cannot throttle the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
