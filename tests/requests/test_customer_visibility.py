"""SPEC 8: a request reaches the customer at internal approval, and not before."""

import pytest

from requests_app import services


@pytest.fixture
def provider_only(world, make_request):
    """Requests that never left the provider: pending, denied, cancelled inside it."""
    pending = make_request()
    denied = make_request()
    services.access_request_internal_deny(actor=world.manager, access_request_id=denied.pk)
    cancelled = make_request()
    services.access_request_cancel(actor=world.engineer, access_request_id=cancelled.pk)
    return [pending, denied, cancelled]


def test_requests_inside_the_provider_are_404_to_the_customer_api(world, api, provider_only):
    for user in (world.admin, world.approver):
        client = api(user)
        for access_request in provider_only:
            response = client.get(f"/api/v1/requests/{access_request.pk}/")
            assert response.status_code == 404, (user, access_request.status)
        assert client.get("/api/v1/requests/").json()["count"] == 0
        listed = client.get("/api/v1/requests/", {"status": "pending_internal"}).json()
        assert listed["count"] == 0


def test_deciding_a_provider_internal_request_is_404_for_the_customer(world, api, make_request):
    access_request = make_request()
    response = api(world.approver).post(f"/api/v1/requests/{access_request.pk}/deny/", {})
    assert response.status_code == 404


def test_requests_inside_the_provider_are_not_on_customer_pages(world, client, provider_only):
    client.force_login(world.approver)
    page = client.get("/support/lockbox-requests/", {"status": "all"}).content.decode()
    assert "No requests." in page
    assert "Pending internal approval" not in page
    for access_request in provider_only:
        assert client.get(f"/requests/{access_request.pk}/").status_code == 404
    home = client.get("/").content.decode()
    assert "Pending internal approval" not in home


def test_a_request_reaches_the_customer_at_internal_approval(world, api, make_request):
    access_request = make_request()
    services.access_request_internal_approve(
        actor=world.manager, access_request_id=access_request.pk
    )
    body = api(world.approver).get(f"/api/v1/requests/{access_request.pk}/").json()
    assert body["status"] == "pending_customer"
    # Once it reached the customer it stays visible, whatever happens next.
    services.access_request_cancel(actor=world.engineer, access_request_id=access_request.pk)
    assert api(world.approver).get(f"/api/v1/requests/{access_request.pk}/").status_code == 200


def test_the_customer_queue_opens_on_pending_customer_approval(world, client, make_request):
    waiting = make_request(stage="pending_customer")
    make_request(stage="approved")
    client.force_login(world.approver)
    page = client.get("/support/lockbox-requests/").content.decode()
    assert f"Request {waiting.pk}<" in page
    assert page.count('class="badge b-approved"') == 0
    assert 'aria-current="true">Pending customer approval (1)' in page
    everything = client.get("/support/lockbox-requests/", {"status": "all"}).content.decode()
    assert everything.count('class="badge b-approved"') == 1


def test_audit_records_of_provider_internal_requests_stay_in_the_customers_log(
    world, api, provider_only
):
    response = (
        api(world.admin).get("/api/v1/audit/records/", {"request": provider_only[1].pk}).json()
    )
    operations = {row["operation"] for row in response["results"]}
    assert operations == {"RequestCreated", "RequestInternallyDenied"}
