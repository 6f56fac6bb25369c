"""Fuzz every API operation from its own OpenAPI schema: no 500, no response outside the schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from lockbox_site.wsgi import application
from tenants_app.tokens import token_issue

schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", application)

PROVIDER_PATHS = ("/api/v1/tickets", "/api/v1/cloud-pcs")


@pytest.fixture
def tokens(world, make_request):
    make_request(stage="approved")  # something real to find at small ids
    make_request(stage="pending_customer")
    return {
        "provider": token_issue(world.engineer)[1],
        "customer": token_issue(world.admin)[1],
    }


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_holds_under_fuzzing(case, tokens):
    who = "provider" if case.path.startswith(PROVIDER_PATHS) else "customer"
    if case.path.startswith("/api/v1/auth/token"):
        headers = {}
    else:
        headers = {"Authorization": f"Token {tokens[who]}"}
    case.call_and_validate(
        headers=headers, checks=[not_a_server_error, response_schema_conformance]
    )
