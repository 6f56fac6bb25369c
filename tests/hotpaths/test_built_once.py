"""Issue 17: the read-only serializers built once per class (lockbox_site.read_serializers)
render exactly what DRF's own per-instance fields render, with each caller's context."""

from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from lockbox_site.read_serializers import BuiltOnce
from requests_app import services
from requests_app.models import AccessRequest
from requests_app.selectors import with_relations
from requests_app.serializers import AccessRequestSerializer


def _render(access_request, viewer):
    request = APIRequestFactory().get("/")
    request.user = viewer
    loaded = with_relations(AccessRequest.objects.get(pk=access_request.pk))
    return AccessRequestSerializer(loaded, context={"request": request}).data


def _drf_own(monkeypatch, access_request, viewer):
    """DRF's Serializer.to_representation, with fields built for each serializer instance."""
    with monkeypatch.context() as patched:
        patched.setattr(
            BuiltOnce,
            "to_representation",
            lambda self, instance: serializers.Serializer.to_representation(self, instance),
        )
        return _render(access_request, viewer)


def test_a_request_renders_as_drf_renders_it_for_each_viewer(world, make_request, monkeypatch):
    asked = make_request(stage="pending_customer")
    services.access_request_request_info(
        actor=world.approver, access_request_id=asked.pk, question="Which logs?"
    )
    services.access_request_answer(
        actor=world.engineer, access_request_id=asked.pk, answer="Event logs."
    )
    services.access_request_decide(
        actor=world.approver,
        access_request_id=asked.pk,
        approve=True,
        comment="ok",
        duration_minutes=30,
    )
    ticket = services.ticket_open(actor=world.engineer, tenant_slug="tailspin", title="P1")
    emergency = services.access_request_create(
        actor=world.engineer,
        ticket_id=ticket.pk,
        cloud_pc_ids=[world.tailspin_pcs[0].pk],
        reason="Outage",
        reason_type="response_to_production_alert",
        duration_minutes=60,
    )
    services.access_request_emergency_approve(
        actor=world.manager, access_request_id=emergency.pk, comment="outage"
    )
    services.access_request_review(
        actor=world.tailspin_admin,
        access_request_id=emergency.pk,
        outcome="disputed",
        comment="why?",
    )
    pending = make_request(stage="pending_customer")
    for access_request in (asked, emergency, pending):
        # Alternating viewers: allowed_actions must follow the context of each call, never the
        # context the shared fields were first built with.
        viewers = (world.approver, world.engineer, world.tailspin_admin, world.manager)
        for viewer in viewers + viewers[:1]:
            fast = _render(access_request, viewer)
            assert fast == _drf_own(monkeypatch, access_request, viewer)
            assert list(fast) == list(_drf_own(monkeypatch, access_request, viewer))
    assert (
        _render(pending, world.approver)["allowed_actions"]
        != _render(pending, world.engineer)["allowed_actions"]
    )
    rich = _render(asked, world.approver)
    assert [m["kind"] for m in rich["messages"]] == ["question", "answer"]
    assert rich["approvals"][0]["duration_minutes"] == 30
    assert _render(emergency, world.tailspin_admin)["review"]["status"] == "disputed"
