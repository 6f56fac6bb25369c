"""Issue 17: models loaded by lockbox_site.model_loading.LoadedPlainly are the instances Django's
own Model.from_db builds: the same values under the same names, deferred fields deferred, the
same state, related rows attached, and assignment afterwards working as usual."""

import pytest
from django.db import models
from django.db.models.signals import post_init
from django.utils import timezone

from lockbox_site.model_loading import LoadedPlainly
from requests_app.models import AccessRequest, Decision, RequestMessage, Ticket
from tenants_app.models import CloudPC, Tenant, User

MODELS = [User, Tenant, CloudPC, Ticket, AccessRequest, Decision, RequestMessage]


def _djangos(instance):
    """The instance Django's Model.from_db builds from the same row, read again."""
    model = type(instance)
    names = [f.attname for f in model._meta.concrete_fields if f.attname in instance.__dict__]
    row = model.objects.filter(pk=instance.pk).values_list(*names).get()
    return models.Model.from_db.__func__(model, "default", names, row)


def _fields(instance) -> dict:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def test_every_hot_model_loads_plainly():
    assert all(issubclass(model, LoadedPlainly) for model in MODELS)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_the_instances_are_djangos(world, make_request, model):
    make_request(stage="approved")  # a request with decisions, Cloud PCs and a ticket
    RequestMessage.objects.create(
        access_request=AccessRequest.objects.first(),
        author=world.approver,
        kind="question",
        text="Why?",
        created_at=timezone.now(),
    )
    loaded = list(model.objects.all())
    assert loaded
    for ours in loaded:
        theirs = _djangos(ours)
        assert _fields(ours) == _fields(theirs)
        assert (ours._state.adding, ours._state.db) == (False, "default")
        assert ours == theirs and ours.pk is not None
    # Deferred fields stay deferred and load on first use, as Django's do.
    first = model.objects.only("pk").order_by("pk").first()
    assert first.get_deferred_fields() == _djangos(first).get_deferred_fields() != set()
    full = model.objects.order_by("pk").first()
    for name in first.get_deferred_fields():
        assert getattr(first, name) == getattr(full, name)


def test_related_rows_and_assignment(world, make_request):
    request = make_request(stage="approved")
    loaded = AccessRequest.objects.select_related("ticket", "tenant", "requester").get(
        pk=request.pk
    )
    assert loaded.tenant.slug == "contoso" and loaded.requester == world.engineer
    assert loaded.ticket.pk == request.ticket_id
    # A foreign key assigned afterwards replaces the cached object, as after __init__.
    loaded.tenant = world.fabrikam
    assert loaded.tenant_id == world.fabrikam.pk
    loaded.requester_id = world.manager.pk
    assert loaded.requester == world.manager
    user = User.objects.select_related("tenant").get(pk=world.approver.pk)
    assert user.tenant == world.contoso and user.is_authenticated


def test_a_post_init_receiver_gets_djangos_path(world):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Tenant)
    try:
        tenants = list(Tenant.objects.all())
    finally:
        post_init.disconnect(receiver, sender=Tenant)
    assert seen == tenants and len(tenants) > 1
