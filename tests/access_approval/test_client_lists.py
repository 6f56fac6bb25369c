"""ListApprovalRequests through Google's client: every filter, the order, and its pager over
120 requests (INTEROP-GOOGLE 7)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from google.api_core import exceptions as gexc

from requests_app import services
from requests_app.models import AccessRequest

pytestmark = pytest.mark.django_db(transaction=True)
ORG = "organizations/contoso"


def _ids(pager) -> list[int]:
    return [int(item.name.rsplit("/", 1)[1]) for item in pager]


@pytest.fixture
def every_state(world, make_request):
    """One request in each Lockbox situation, by the Google state it must list as."""
    past = timezone.now() - timedelta(minutes=5)
    made = {}
    made["pending"] = make_request(stage="pending_customer")
    made["active"] = make_request(stage="approved")
    denied = make_request(stage="pending_customer")
    services.access_request_deny(actor=world.approver, access_request_id=denied.pk)
    cancelled = make_request(stage="pending_customer")
    services.access_request_cancel(actor=world.engineer, access_request_id=cancelled.pk)
    expired = make_request(stage="pending_customer")
    AccessRequest.objects.filter(pk=expired.pk).update(expires_at=past)
    services.access_request_expire(access_request_id=expired.pk)
    overdue = make_request(stage="pending_customer")
    AccessRequest.objects.filter(pk=overdue.pk).update(expires_at=past)
    made["dismissed"] = [denied, cancelled, expired, overdue]
    completed = make_request(stage="approved")
    AccessRequest.objects.filter(pk=completed.pk).update(window_ends_at=past)
    services.access_request_complete(access_request_id=completed.pk)
    revoked = make_request(stage="approved")
    services.access_request_revoke(actor=world.approver, access_request_id=revoked.pk)
    ended = make_request(stage="approved")
    AccessRequest.objects.filter(pk=ended.pk).update(window_ends_at=past)
    made["expired"] = [completed, revoked, ended]
    # Never listed: not the customer's yet, or another tenant's.
    make_request(stage="pending_internal")
    make_request(world.northwind, stage="pending_customer")
    return {
        state: sorted([r.pk for r in (value if isinstance(value, list) else [value])], reverse=True)
        for state, value in made.items()
    }


def test_every_filter_returns_its_state_in_request_time_order(world, every_state, google):
    client = google(world.approver)
    s = every_state

    def listed(filter_value):
        return _ids(client.list_approval_requests(request={"parent": ORG, "filter": filter_value}))

    expected = {
        "": s["pending"] + s["active"],
        "ALL": s["pending"] + s["active"] + s["dismissed"] + s["expired"],
        "PENDING": s["pending"],
        "ACTIVE": s["active"],
        "DISMISSED": s["dismissed"],
        "EXPIRED": s["expired"],
        "HISTORY": s["active"] + s["dismissed"] + s["expired"],
    }
    for filter_value, ids in expected.items():
        assert listed(filter_value) == sorted(ids, reverse=True), filter_value
    assert listed("history") == listed("HISTORY")  # case-insensitive
    # Each shows its decision: dismissed ones `dismiss`, expired ones `approve`.
    by_id = {
        int(r.name.rsplit("/", 1)[1]): r
        for r in client.list_approval_requests(request={"parent": ORG, "filter": "ALL"})
    }
    denied, cancelled, expired, overdue = s["dismissed"][::-1]
    assert by_id[denied].dismiss.implicit is False
    assert all(by_id[pk].dismiss.implicit for pk in (cancelled, expired, overdue))
    revoked = sorted(s["expired"])[1]
    assert by_id[revoked].approve.invalidate_time
    assert "approve" not in by_id[s["pending"][0]] and "dismiss" not in by_id[s["pending"][0]]
    with pytest.raises(gexc.BadRequest) as caught:
        listed("OPEN")
    assert caught.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert caught.value.reason == "INVALID_FILTER"


def test_the_pager_walks_120_requests_and_tokens_are_checked(world, make_request, google):
    created = [make_request(stage="pending_customer").pk for _ in range(120)]
    client = google(world.approver)
    pager = client.list_approval_requests(request={"parent": ORG, "page_size": 50})
    pages = list(pager.pages)
    assert [len(page.approval_requests) for page in pages] == [50, 50, 20]
    assert [bool(page.next_page_token) for page in pages] == [True, True, False]
    ids = [int(r.name.rsplit("/", 1)[1]) for page in pages for r in page.approval_requests]
    assert ids == sorted(created, reverse=True)
    # Unset or 0 is 50, above 100 is 100; never an empty last page.
    assert len(client.list_approval_requests(request={"parent": ORG}).approval_requests) == 50
    big = client.list_approval_requests(request={"parent": ORG, "page_size": 500})
    assert len(big._response.approval_requests) == 100
    exact = client.list_approval_requests(request={"parent": ORG, "page_size": 120})
    assert len(exact._response.approval_requests) == 100
    # A request created between two pages does not repeat an item.
    first = client.list_approval_requests(request={"parent": ORG, "page_size": 60})
    token = first.next_page_token
    make_request(stage="pending_customer")
    rest = client.list_approval_requests(
        request={"parent": ORG, "page_size": 100, "page_token": token}
    )
    seen = [int(r.name.rsplit("/", 1)[1]) for r in first._response.approval_requests]
    seen += [int(r.name.rsplit("/", 1)[1]) for r in rest._response.approval_requests]
    assert seen == sorted(created, reverse=True)
    for bad in (
        {"page_size": -1},
        {"page_token": "not-a-token"},
        {"page_token": token, "filter": "ALL"},  # made for another filter
    ):
        with pytest.raises(gexc.BadRequest) as caught:
            client.list_approval_requests(request={"parent": ORG, **bad})
        assert caught.value.response.json()["error"]["status"] == "INVALID_ARGUMENT", bad
    # projects/ is an exact alias of organizations/: the same parent, so the token holds.
    alias = client.list_approval_requests(
        request={"parent": "projects/contoso", "page_size": 100, "page_token": token}
    )
    assert alias._response.approval_requests[0].name.startswith("projects/contoso/")
