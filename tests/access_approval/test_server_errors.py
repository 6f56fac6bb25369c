"""The error classes a live server cannot be made to produce on demand: a database outage
(503), an unexpected error (500) and throttling (429), as google.rpc.Status bodies whose HTTP
codes Google's client maps to ServiceUnavailable, InternalServerError and TooManyRequests."""

import pytest
import requests
from django.db import OperationalError
from django.test import Client
from google.api_core import exceptions as gexc
from rest_framework.throttling import BaseThrottle

from access_approval.views import ApprovalRequestListView
from tenants_app.tokens import token_issue

URL = "/v1/organizations/contoso/approvalRequests"


def _as_google_sees_it(response):
    """The exception Google's REST client raises for this answer."""
    answer = requests.models.Response()
    answer.status_code = response.status_code
    answer._content = response.content
    answer.headers["Content-Type"] = response["Content-Type"]
    answer.request = requests.Request("GET", "http://testserver" + URL).prepare()
    return gexc.from_http_response(answer)


@pytest.fixture
def call(world):
    _, token = token_issue(world.approver)
    client = Client(raise_request_exception=False)
    return lambda: client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_database_outage_is_503_unavailable(call, monkeypatch):
    def down(self, request, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(ApprovalRequestListView, "get", down)
    response = call()
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["error"]["status"] == "UNAVAILABLE"
    assert isinstance(_as_google_sees_it(response), gexc.ServiceUnavailable)


def test_an_unexpected_error_is_500_internal(call, monkeypatch):
    def broken(self, request, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(ApprovalRequestListView, "get", broken)
    response = call()
    assert response.status_code == 500 and response.json()["error"]["status"] == "INTERNAL"
    assert isinstance(_as_google_sees_it(response), gexc.InternalServerError)


def test_throttling_is_429_resource_exhausted(call, monkeypatch):
    class Never(BaseThrottle):
        def allow_request(self, request, view):
            return False

        def wait(self):
            return 30

    monkeypatch.setattr(ApprovalRequestListView, "throttle_classes", [Never])
    response = call()
    assert response.status_code == 429 and response["Retry-After"] == "30"
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert isinstance(_as_google_sees_it(response), gexc.TooManyRequests)
