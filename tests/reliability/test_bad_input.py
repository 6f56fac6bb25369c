"""Bad input: malformed and oversize bodies, and every web form fuzzed with hypothesis."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit_app.models import RetentionPolicy
from requests_app.models import AccessRequest, Ticket

pytestmark = pytest.mark.reliability


def test_malformed_json_is_a_clear_400(world, api):
    client = api(world.engineer)
    response = client.generic(
        "POST",
        "/api/v1/tickets/",
        '{"tenant": "contoso", "title": ',
        content_type="application/json",
    )
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    wrong_type = client.generic(
        "POST", "/api/v1/tickets/", "[1, 2]", content_type="application/json"
    )
    assert wrong_type.status_code == 400
    assert not Ticket.objects.exists()


def test_an_oversize_body_is_a_json_413(world, api):
    big = '{"tenant": "contoso", "title": "x", "description": "' + "a" * (2 * 1024 * 1024) + '"}'
    response = api(world.engineer).generic(
        "POST", "/api/v1/tickets/", big, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is larger than 1048576 bytes."}
    assert not Ticket.objects.exists()


def test_an_oversize_form_body_is_a_json_413_too(world, api):
    response = api(world.engineer).post(
        "/api/v1/tickets/", {"tenant": "contoso", "title": "x", "description": "a" * 2_000_000}
    )
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/tickets/"])
def test_deeply_nested_json_is_a_clear_400(world, api, path):
    nested = "[" * 5000 + "]" * 5000
    response = api(world.engineer).generic("POST", path, nested, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the document is nested too deeply."}
    assert not Ticket.objects.exists()


def test_an_unsupported_media_type_is_a_415(world, api):
    response = api(world.engineer).generic(
        "POST", "/api/v1/tickets/", "tenant=contoso", content_type="text/plain"
    )
    assert response.status_code == 415


texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["", " ", "0", "-1", "99999999999", "contoso", "P1Y", "approve", "\x00", "<script>"]
    ),
)
form_data = st.dictionaries(
    st.sampled_from(
        [
            "tenant",
            "title",
            "description",
            "ticket",
            "cloud_pcs",
            "reason",
            "duration_minutes",
            "decision",
            "comment",
            "name",
            "record_types",
            "operations",
            "duration",
            "priority",
            "enabled",
            "url",
            "start",
            "end",
            "q",
            "request",
            "status",
            "page",
            "selected",
        ]
    ),
    texts,
    max_size=8,
)
FORMS = [
    ("engineer", "/provider/tickets/"),
    ("engineer", "/provider/request-access/"),
    ("approver", "/requests/{request}/decide/"),
    ("engineer", "/requests/{request}/cancel/"),
    ("admin", "/requests/{request}/revoke/"),
    ("admin", "/settings/org/security/customer-lockbox/"),
    ("admin", "/audit/retention-policies/new/"),
    ("admin", "/settings/webhooks/"),
]


@pytest.mark.parametrize(("who", "path"), FORMS)
def test_web_forms_never_fail_with_a_500(world, make_request, who, path):
    access_request = make_request(stage="pending_customer")
    client = Client(raise_request_exception=False)
    client.force_login(getattr(world, who))
    url = path.format(request=access_request.pk)

    @settings(
        max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
    )
    @given(data=form_data)
    def post(data):
        counts = (
            Ticket.objects.count(),
            AccessRequest.objects.count(),
            RetentionPolicy.objects.count(),
        )
        response = client.post(url, data)
        assert response.status_code < 500, (url, data, response.status_code)
        if response.status_code >= 400:  # refused: nothing was half-written
            assert counts == (
                Ticket.objects.count(),
                AccessRequest.objects.count(),
                RetentionPolicy.objects.count(),
            )

    post()
    for query in (
        {"start": "x", "q": "\x00"},
        {"status": "<script>", "selected": "abc"},
        {"page": "-1"},
    ):
        for page in ("/audit/", "/support/lockbox-requests/"):
            client.force_login(world.admin)
            assert client.get(page, query).status_code < 500
