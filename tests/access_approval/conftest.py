"""One gunicorn per module, serving the test database, driven by Google's own client."""

import pytest
from django.conf import settings
from google.auth.credentials import AnonymousCredentials
from google.cloud import accessapproval_v1
from google.oauth2.credentials import Credentials

from audit_app.signing import signing_key
from tenants_app.tokens import token_issue
from tests.reliability.procs import app_env, gunicorn


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory):
    signing_key()  # the server signs with the test process's key, so both verify the same
    env = app_env(
        tmp_path_factory.mktemp("v1"),
        LOCKBOX_SIGNING_KEY_FILE=str(settings.LOCKBOX_SIGNING_KEY_FILE),
        LOCKBOX_WEBHOOK_ALLOW_PRIVATE="true",
    )
    with django_db_blocker.unblock(), gunicorn(env) as base:
        yield base


@pytest.fixture
def google(server):
    """google(user) -> Google's AccessApprovalClient with that user's API token."""

    def _client(user, *, credentials=None):
        if credentials is None:
            _, token = token_issue(user)
            credentials = Credentials(token=token)
        return accessapproval_v1.AccessApprovalClient(
            credentials=credentials,
            transport="rest",
            client_options={"api_endpoint": server},
        )

    return _client


class NoRefresh(AnonymousCredentials):
    """Credentials that "refresh" by doing nothing: the client then raises Unauthorized."""

    def refresh(self, request):
        pass
