"""Sessions around decisions: a per-tenant idle timeout, a decision whose session expired
returning to its request with the comment kept, no-store decision pages, and the state a page
left open polls after a revoke."""

from datetime import UTC, datetime, timedelta

import time_machine

from requests_app import services

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def test_a_session_ends_after_the_tenants_idle_timeout_of_60_minutes_by_default(world, client):
    assert world.contoso.idle_timeout_minutes == 60
    with time_machine.travel(T0, tick=False):
        client.force_login(world.approver)
        assert client.get("/").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=59), tick=False):
        assert client.get("/").status_code == 200  # activity moves the end
    with time_machine.travel(T0 + timedelta(minutes=59 + 59), tick=False):
        assert client.get("/").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=59 + 59 + 61), tick=False):
        response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_a_tenant_sets_its_own_idle_timeout(world, client):
    world.contoso.idle_timeout_minutes = 10
    world.contoso.save(update_fields=["idle_timeout_minutes"])
    with time_machine.travel(T0, tick=False):
        client.force_login(world.approver)
        client.get("/")
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        assert client.get("/").status_code == 302
    # Another tenant's users keep the default.
    with time_machine.travel(T0, tick=False):
        client.force_login(world.northwind_admin)
        client.get("/")
    with time_machine.travel(T0 + timedelta(minutes=11), tick=False):
        assert client.get("/").status_code == 200


def test_a_decision_after_the_session_expired_returns_to_the_request_with_the_comment(
    world, client, make_request
):
    access_request = make_request(stage="pending_customer")
    response = client.post(
        f"/requests/{access_request.pk}/decide/",
        {"decision": "deny", "comment": "Not during the audit freeze"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next=/requests/{access_request.pk}/"
    access_request.refresh_from_db()
    assert access_request.status == "pending_customer"  # nothing was done
    login = client.get(response["Location"]).content.decode()
    assert "Your session had expired, so nothing was done." in login
    signed_in = client.post(
        response["Location"],
        {"username": "approver@contoso.example", "password": "lockbox-demo"},
        follow=True,
    )
    page = signed_in.content.decode()
    assert signed_in.redirect_chain[-1][0] == f"/requests/{access_request.pk}/"
    assert ">Not during the audit freeze</textarea>" in page
    assert "Your session had expired before this was sent" in page
    # Shown once: the next visit starts empty.
    again = client.get(f"/requests/{access_request.pk}/").content.decode()
    assert "Not during the audit freeze" not in again


def test_decision_pages_are_never_cached(world, client, make_request):
    access_request = make_request(stage="pending_customer")
    client.force_login(world.approver)
    for url in (
        f"/requests/{access_request.pk}/",
        "/support/lockbox-requests/",
        f"/support/lockbox-requests/?selected={access_request.pk}",
    ):
        assert "no-store" in client.get(url)["Cache-Control"], url
    decided = client.post(f"/requests/{access_request.pk}/decide/", {"decision": "approve"})
    assert "no-store" in decided["Cache-Control"]


def test_the_state_of_a_revoked_grant_says_who_ended_it(world, client, make_request):
    access_request = make_request(stage="approved")
    client.force_login(world.engineer)
    state = client.get(f"/requests/{access_request.pk}/state/").json()
    assert state == {"status": "approved", "open": True, "message": ""}
    services.access_request_revoke(actor=world.approver, access_request_id=access_request.pk)
    state = client.get(f"/requests/{access_request.pk}/state/").json()
    assert state["open"] is False
    assert state["message"].startswith("Access ended: revoked by approver@contoso.example at ")
    client.force_login(world.northwind_admin)
    assert client.get(f"/requests/{access_request.pk}/state/").status_code == 404
