"""Issue 17: the statements compiled once (lockbox_site.compiled) give what the ORM gives, and
the hot paths send one statement where they sent several."""

from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from lockbox_site.compiled import Compiled, insert, update
from requests_app.models import AccessRequest, Decision, OutboxMessage
from requests_app.services.common import lock_access_request
from tenants_app.backends import UserBackend
from tenants_app.roles import APPROVER, AUDIT_READER, GLOBAL_ADMIN, Cap, can, group_names


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_a_compiled_query_gives_the_orms_instances_with_their_joined_relations(world, make_request):
    first = make_request(stage="pending_customer")
    second = make_request(stage="pending_internal")
    compiled = Compiled(
        lambda pk: AccessRequest.objects.filter(pk=pk).select_related(
            "ticket", "tenant", "requester"
        )
    )
    for access_request in (first, second):
        [loaded] = compiled.rows(access_request.pk)
        expected = AccessRequest.objects.select_related("ticket", "tenant", "requester").get(
            pk=access_request.pk
        )
        assert _fields(loaded) == _fields(expected)
        with CaptureQueriesContext(connection) as captured:
            assert _fields(loaded.ticket) == _fields(expected.ticket)
            assert _fields(loaded.tenant) == _fields(expected.tenant)
            assert loaded.requester.username == expected.requester.username
        assert captured.captured_queries == []  # joined, not loaded lazily
    assert compiled.rows(10**9) == []


def test_a_compiled_query_that_can_match_nothing_sends_nothing(world):
    compiled = Compiled(lambda pk: AccessRequest.objects.filter(pk=pk).none())
    with CaptureQueriesContext(connection) as captured:
        assert compiled.rows(1) == []
    assert captured.captured_queries == []


def test_the_locking_read_keeps_each_actors_visibility(world, make_request):
    """The compiled locking read applies the same scopes as access_requests_for_user."""
    internal = make_request(stage="pending_internal")
    customer = make_request(stage="pending_customer")
    fabrikam = make_request(world.fabrikam, stage="pending_customer")
    seen = {
        world.approver: {customer.pk},  # not before it reached the customer, not fabrikam's
        world.fabrikam_admin: {fabrikam.pk},
        world.manager: {internal.pk, customer.pk, fabrikam.pk},
        world.engineer: {internal.pk, customer.pk, fabrikam.pk},  # the requester
        world.auditor: set(),
    }
    for actor, visible in seen.items():
        for access_request in (internal, customer, fabrikam):
            with transaction.atomic():
                try:
                    found = lock_access_request(access_request.pk, actor).pk
                except Exception as exc:  # NotFound
                    assert type(exc).__name__ == "NotFound"
                    found = None
            assert (found is not None) == (access_request.pk in visible), (actor, access_request)
    with transaction.atomic():
        for bad in ("abc", "", None, -1, 0, 2**70, "12 OR 1=1"):
            try:
                lock_access_request(bad, world.manager)
            except Exception as exc:
                assert type(exc).__name__ == "NotFound"
            else:
                raise AssertionError(bad)


def test_insert_and_update_store_what_save_stores(world, make_request):
    access_request = make_request(stage="pending_customer")
    kwargs = dict(
        access_request=access_request,
        stage="customer",
        outcome="approved",
        actor=world.approver,
        comment="fine",
        statement={"b": 1, "a": [1, "x"]},
        jws="a.b.c",
        created_at=access_request.created_at,
    )
    saved = Decision(**kwargs)
    saved.save()
    inserted = Decision(**kwargs)
    insert(inserted)
    assert inserted.pk is not None and not inserted._state.adding
    a, b = (_fields(Decision.objects.get(pk=d.pk)) for d in (saved, inserted))
    assert {k: v for k, v in a.items() if k != "id"} == {k: v for k, v in b.items() if k != "id"}
    message = OutboxMessage(kind="email", tenant_id=world.contoso.pk, payload={"to": ["x@y"]})
    message.available_at = access_request.created_at
    insert(message)
    stored = OutboxMessage.objects.get(pk=message.pk)  # a UUID key and auto_now_add filled
    assert stored.created_at is not None and stored.payload == {"to": ["x@y"]}

    access_request.status = "denied"
    access_request.reason = "not saved: not in the field list"
    update(access_request, ["status"])
    stored = AccessRequest.objects.get(pk=access_request.pk)
    assert stored.status == "denied" and stored.reason != access_request.reason
    gone = AccessRequest(pk=10**9, status="denied")
    try:
        update(gone, ["status"])
    except AccessRequest.DoesNotExist:
        pass
    else:
        raise AssertionError("an update of a missing row must fail, as save() does")


def test_an_insert_after_an_update_stores_both_or_fails_as_update_does(world, make_request):
    """Issue 17: a transition's changes to the request and its decision's insert, one statement
    on PostgreSQL (a data-modifying WITH), two elsewhere; a missing row fails as update()."""
    access_request = make_request(stage="pending_customer")
    access_request.status = "denied"
    decision = Decision(
        access_request=access_request,
        stage="customer",
        outcome="denied",
        actor=world.approver,
        created_at=access_request.created_at,
    )
    with CaptureQueriesContext(connection) as captured:
        insert(decision, after_update=(access_request, ["status"]))
    assert len(captured.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert AccessRequest.objects.get(pk=access_request.pk).status == "denied"
    assert Decision.objects.get(pk=decision.pk).outcome == "denied"
    # A UUID key (no id returned) with the update's count, and a row that is gone.
    message = OutboxMessage(kind="email", tenant_id=world.contoso.pk, payload={})
    message.available_at = access_request.created_at
    insert(message, after_update=(access_request, ["status"]))
    assert OutboxMessage.objects.filter(pk=message.pk).exists()
    gone = AccessRequest(pk=10**9, status="denied")
    lost = OutboxMessage(kind="email", tenant_id=world.contoso.pk, payload={})
    lost.available_at = access_request.created_at
    try:
        with transaction.atomic():
            insert(lost, after_update=(gone, ["status"]))
    except AccessRequest.DoesNotExist:
        pass
    else:
        raise AssertionError("an update of a missing row must fail, as save() does")
    assert not OutboxMessage.objects.filter(pk=lost.pk).exists()


def test_a_session_loads_the_user_its_tenant_and_groups_in_one_statement(world):
    with CaptureQueriesContext(connection) as captured:
        user = UserBackend().get_user(str(world.approver.pk))
        assert user.tenant.slug == "contoso"
        assert can(user, Cap.DECIDE_REQUESTS) and not can(user, Cap.MANAGE_ROLES)
    assert len(captured.captured_queries) == 1
    assert model_to_dict(user) == model_to_dict(world.approver)
    world.approver.is_active = False
    world.approver.save()
    assert UserBackend().get_user(world.approver.pk) is None
    assert UserBackend().get_user("not an id") is None


def test_the_groups_read_with_the_user_are_its_groups_now(world):
    """The names come from the same statement as the user, so a change of roles shows at the
    user's next request, and a user in no group holds no capability."""
    assert group_names(UserBackend().get_user(world.admin.pk)) == {GLOBAL_ADMIN}
    world.admin.groups.add(Group.objects.get(name=AUDIT_READER))
    assert group_names(UserBackend().get_user(world.admin.pk)) == {GLOBAL_ADMIN, AUDIT_READER}
    world.admin.groups.clear()
    with CaptureQueriesContext(connection) as captured:
        user = UserBackend().get_user(world.admin.pk)
        assert group_names(user) == frozenset()
        assert not can(user, Cap.SEARCH_AUDIT)
    assert len(captured.captured_queries) == 1


def test_an_api_request_reads_token_user_tenant_and_groups_in_one_statement(world):
    token = AuthToken.objects.create(world.approver)[1]
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/me/")
    assert response.status_code == 200 and response.json()["tenant"] == "contoso"
    assert response.json()["groups"] == [APPROVER]
    assert len(captured.captured_queries) == 1, [q["sql"] for q in captured.captured_queries]
    bad = APIClient(HTTP_AUTHORIZATION=f"Bearer {token[:-1]}x")
    assert bad.get("/api/v1/me/").status_code == 401


def test_postgresql_prepares_the_statements_a_connection_sends_again(world):
    """DB_PREPARED_STATEMENTS (default on): the server binds the parameters and prepares a
    statement the connection sends twice, so the hot paths are parsed and planned once."""
    import pytest

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    backend = UserBackend()
    for _ in range(3):
        assert backend.get_user(world.approver.pk).tenant.slug == "contoso"
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "tenants_app_user"' in sql for sql in prepared), prepared
