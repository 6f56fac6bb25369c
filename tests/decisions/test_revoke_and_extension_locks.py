"""A revocation and a decision on the revoked request's pending extension, at the same moment.

The revocation locked the request, then the tenant's chain head (its own record), and only then
the extensions it cascades to; a decision on the extension locks the extension, then the head.
With both waiting for the head, the one that got it next waited for the other's extension:
PostgreSQL found a deadlock and one of the two failed with a 500. Found by an adversarial review.
Every transition must lock its objects before the chain head.
"""

import threading
import time

import psycopg
import pytest
from django.db import connection

from audit_app.models import AuditChainHead, AuditRecord
from lockbox_site.errors import ApplicationError
from requests_app import services
from requests_app.models import AccessRequest

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks: SQLite locks the whole database"
    ),
]


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _until_waiting(count: int) -> None:
    deadline = time.monotonic() + 20
    while _waiting_on_locks() < count:
        assert time.monotonic() < deadline, "the transitions never reached their locks"
        time.sleep(0.01)  # polling another process's state, not waiting for time to pass


def _start(fn, outcomes, name) -> threading.Thread:
    def run():
        try:
            fn()
            outcomes[name] = "done"
        except ApplicationError as exc:
            outcomes[name] = exc.status_code
        except Exception as exc:  # a deadlock is what this test is about
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_revocation_and_a_decision_on_its_extension_do_not_deadlock(world, make_request):
    parent = make_request(stage="approved")
    extension = services.access_request_extend(
        actor=world.engineer, access_request_id=parent.pk, reason="More time"
    )
    services.access_request_internal_approve(actor=world.manager, access_request_id=extension.pk)
    settings = connection.settings_dict
    # Another session holds the chain head, so both transitions queue up behind it: the
    # revocation first, then the approval of the extension.
    blocker = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=False,
    )
    outcomes: dict = {}
    try:
        blocker.execute(
            f"SELECT 1 FROM {AuditChainHead._meta.db_table} WHERE tenant_id = %s FOR UPDATE",
            [world.contoso.pk],
        )
        revoke = _start(
            lambda: services.access_request_revoke(
                actor=world.admin, access_request_id=parent.pk, comment="Done"
            ),
            outcomes,
            "revoke",
        )
        _until_waiting(1)
        approve = _start(
            lambda: services.access_request_approve(
                actor=world.approver, access_request_id=extension.pk
            ),
            outcomes,
            "approve",
        )
        _until_waiting(2)
    finally:
        blocker.rollback()
        blocker.close()
    revoke.join(30)
    approve.join(30)
    # The revocation came first: it wins, and the extension it cancelled can no longer be
    # approved (409), where before one of the two died in a deadlock.
    assert outcomes == {"revoke": "done", "approve": 409}
    statuses = dict(
        AccessRequest.objects.filter(pk__in=[parent.pk, extension.pk]).values_list("pk", "status")
    )
    assert statuses == {parent.pk: "revoked", extension.pk: "cancelled"}
    assert not AuditRecord.objects.filter(request_id=extension.pk, operation="RequestApproved")
