"""The request pages: decisions, refusals shown with the right status, tickets, Cloud PCs."""

from lockbox_site.querycount import count_queries
from requests_app.models import AccessRequest, Ticket


def test_a_decision_shows_the_confirmation(world, client, make_request):
    access_request = make_request(stage="pending_customer")
    client.force_login(world.approver)
    response = client.post(
        f"/requests/{access_request.pk}/decide/",
        {"decision": "deny", "comment": "not now"},
        follow=True,
    )
    assert b"Your request has been updated" in response.content
    access_request.refresh_from_db()
    assert access_request.status == "denied"
    assert access_request.decisions.get(stage="customer").comment == "not now"


def test_a_stale_second_click_is_a_409_with_a_clear_message(world, client, make_request):
    access_request = make_request(stage="pending_customer")
    client.force_login(world.approver)
    client.post(f"/requests/{access_request.pk}/decide/", {"decision": "approve"})
    client.force_login(world.admin)
    response = client.post(f"/requests/{access_request.pk}/decide/", {"decision": "deny"})
    assert response.status_code == 409
    assert b"Cannot deny a request that is approved" in response.content


def test_bad_decision_input_is_a_400(world, client, make_request):
    access_request = make_request(stage="pending_customer")
    client.force_login(world.approver)
    assert (
        client.post(f"/requests/{access_request.pk}/decide/", {"decision": "maybe"}).status_code
        == 400
    )
    long = client.post(
        f"/requests/{access_request.pk}/decide/", {"decision": "approve", "comment": "x" * 3000}
    )
    assert long.status_code == 400
    assert AccessRequest.objects.get(pk=access_request.pk).status == "pending_customer"


def test_the_engineer_cannot_decide_on_its_own_request(world, client, make_request):
    access_request = make_request()
    client.force_login(world.engineer)
    assert (
        client.post(f"/requests/{access_request.pk}/decide/", {"decision": "approve"}).status_code
        == 403
    )


def test_the_list_filters_by_status_and_counts(world, client, make_request):
    make_request(stage="pending_customer")
    make_request(stage="approved")
    client.force_login(world.admin)
    page = client.get("/support/lockbox-requests/", {"status": "approved"}).content.decode()
    assert "Approved (1)" in page and "Pending customer approval (1)" in page and "All (2)" in page
    assert page.count('class="badge b-approved"') == 1
    assert client.get("/support/lockbox-requests/", {"status": "nonsense"}).status_code == 200


def test_the_list_runs_a_constant_number_of_queries(world, client, make_request):
    client.force_login(world.admin)
    make_request(stage="pending_customer")
    client.get("/")  # the session's idle timeout is set once a minute, not on every page
    with count_queries() as few:
        client.get(
            "/support/lockbox-requests/",
            {"status": "all", "selected": AccessRequest.objects.first().pk},
        )
    for _ in range(30):
        make_request(stage="approved")
    with count_queries() as many:
        page = client.get(
            "/support/lockbox-requests/",
            {"status": "all", "selected": AccessRequest.objects.first().pk},
        )
    assert page.content.decode().count("selected=") == 25  # a full page of rows
    assert 5 < len(few) == len(many) <= 20, (len(few), len(many))


def test_engineer_opens_a_ticket_and_requests_access(world, client):
    client.force_login(world.engineer)
    assert client.post("/provider/tickets/", {"tenant": "contoso", "title": ""}).status_code == 400
    response = client.post("/provider/tickets/", {"tenant": "contoso", "title": "Disk full"})
    ticket = Ticket.objects.get()
    assert response["Location"] == f"/provider/tickets/{ticket.pk}/"
    form = client.get("/provider/request-access/", {"ticket": ticket.pk}).content.decode()
    assert "CPC-CON-001" in form and "CPC-NW-001" not in form
    bad = client.post(
        "/provider/request-access/",
        {
            "ticket": ticket.pk,
            "cloud_pcs": [world.contoso_pcs[0].pk],
            "reason": "r",
            "duration_minutes": 5,
        },
    )
    assert bad.status_code == 400
    good = client.post(
        "/provider/request-access/",
        {
            "ticket": ticket.pk,
            "cloud_pcs": [world.contoso_pcs[0].pk],
            "reason": "r",
            "duration_minutes": 30,
        },
    )
    assert good.status_code == 302 and AccessRequest.objects.get().duration_minutes == 30


def test_closing_a_ticket_from_the_page(world, client, make_request):
    access_request = make_request(stage="approved")
    client.force_login(world.manager)
    client.post(f"/provider/tickets/{access_request.ticket_id}/close/")
    access_request.refresh_from_db()
    assert access_request.status == "completed"
    client.force_login(world.admin)
    assert client.post(f"/provider/tickets/{access_request.ticket_id}/close/").status_code == 404


def test_cloud_pc_pages_under_a_grant(world, client, make_request):
    make_request(stage="approved")
    pc, other = world.contoso_pcs[0], world.contoso_pcs[1]
    client.force_login(world.engineer)
    diagnostics = client.get(f"/provider/cloud-pcs/{pc.pk}/?show=diagnostics").content.decode()
    assert "<dt>CPU use</dt><dd>12 %</dd>" in diagnostics  # labelled, not cpu_percent
    assert client.get(f"/provider/cloud-pcs/{other.pk}/").status_code == 403
    assert client.post(f"/provider/cloud-pcs/{pc.pk}/restart/").status_code == 302
    assert client.get("/provider/cloud-pcs/999999/").status_code == 404


def test_the_cloud_pc_page_shows_the_grant_without_reading_it_again(world, client, make_request):
    """Issue 17: the action reads only the grant's id and window; the page needs no more."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    grant = make_request(stage="approved")
    pc = world.contoso_pcs[0]
    client.force_login(world.engineer)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/provider/cloud-pcs/{pc.pk}/").content.decode()
    assert f"You are working under request {grant.pk}." in page
    assert f'data-ends-at="{grant.window_ends_at.isoformat()}"' in page
    # The action's own statement (on PostgreSQL the one-statement function) and nothing more.
    grant_reads = [
        q["sql"]
        for q in captured.captured_queries
        if "requests_app_accessrequest" in q["sql"] or "lockbox_operator_action" in q["sql"]
    ]
    assert len(grant_reads) == 1, grant_reads


def test_a_decision_never_redirects_off_site(world, client, make_request):
    client.force_login(world.approver)
    for back in ("/\\evil.example", "//evil.example", "https://evil.example/", "/\\/evil.example"):
        access_request = make_request(stage="pending_customer")
        response = client.post(
            f"/requests/{access_request.pk}/decide/", {"decision": "deny", "back": back}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/requests/{access_request.pk}/", back


def test_a_decision_returns_to_the_page_it_came_from(world, client, make_request):
    access_request = make_request(stage="pending_customer")
    client.force_login(world.approver)
    back = "/support/lockbox-requests/?status=all"
    response = client.post(
        f"/requests/{access_request.pk}/decide/", {"decision": "deny", "back": back}
    )
    assert response["Location"] == back
