"""Helpers for SPEC 10's richer decisions, driven through the API as production runs them."""

import pytest

from requests_app import services


@pytest.fixture
def create(world, api):
    """POST /api/v1/requests/ as the engineer (after opening a ticket); returns the JSON."""

    def _create(tenant="contoso", *, pcs=None, expect=201, **fields):
        ticket = services.ticket_open(actor=world.engineer, tenant_slug=tenant, title="Case")
        pcs = pcs or [getattr(world, f"{tenant}_pcs")[0].pk]
        body = {"ticket": ticket.pk, "cloud_pcs": pcs, "reason": "Investigate", **fields}
        response = api(world.engineer).post("/api/v1/requests/", body, format="json")
        assert response.status_code == expect, response.json()
        return response.json()

    return _create


@pytest.fixture
def act(api):
    """POST /api/v1/requests/{id}/{path}/ as `actor`; asserts the status, returns the JSON."""

    def _act(actor, pk, path, expect=200, **body):
        response = api(actor).post(f"/api/v1/requests/{pk}/{path}/", body, format="json")
        assert response.status_code == expect, response.json()
        return response.json()

    return _act


@pytest.fixture
def reaching_customer(world, create, act):
    """A request created and internally approved: pending the customer's approval."""

    def _make(tenant="contoso", **fields):
        created = create(tenant, **fields)
        return act(world.manager, created["id"], "approve")

    return _make
