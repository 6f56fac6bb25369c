"""Support tickets: open, and close (which ends every grant and pending request of the ticket)."""

from django.db import transaction
from django.utils import timezone

from lockbox_site.errors import InvalidInput, InvalidState, NotAllowed, NotFound
from tenants_app.models import Tenant
from tenants_app.roles import Cap, can, require

from ..models import AccessRequest, Ticket
from ..selectors import tickets_for_user
from .transitions import apply_transition


@transaction.atomic
def ticket_open(*, actor, tenant_slug, title, description="") -> Ticket:
    require(actor, Cap.OPEN_TICKETS, "Only support engineers can open tickets.")
    tenant = None
    if isinstance(tenant_slug, str):
        tenant = Tenant.objects.filter(kind=Tenant.Kind.CUSTOMER, slug=tenant_slug).first()
    if tenant is None:
        raise InvalidInput("No such customer tenant.", {"tenant": ["Unknown tenant."]})
    if not isinstance(title, str) or not title.strip():
        raise InvalidInput("Give the ticket a title.", {"title": ["This field is required."]})
    if len(title) > 200 or (isinstance(description, str) and len(description) > 10000):
        raise InvalidInput("The title or description is too long.")
    return Ticket.objects.create(
        tenant=tenant,
        created_by=actor,
        title=title.strip(),
        description=(description or "").strip() if isinstance(description, str) else "",
    )


def _end_request(access_request: AccessRequest, *, actor, now, why: str) -> None:
    """End one request of a closing or completing ticket; the caller holds its row lock."""
    if access_request.is_pending and access_request.expires_at <= now:
        # Past its deadline it has already expired (the sweep just has not recorded it yet):
        # a cancel would rewrite what happened.
        apply_transition("expire", actor=None, access_request_id=access_request.pk, now=now)
        return
    apply_transition(
        "close_pending" if access_request.is_pending else "close_approved",
        actor=actor,
        access_request_id=access_request.pk,
        comment=why,
        now=now,
        reason=why,
    )


@transaction.atomic
def ticket_close(*, actor, ticket_id, client_ip=None) -> Ticket:
    """Access never outlives its support case: closing ends windows and cancels pending requests."""
    try:
        ticket = tickets_for_user(actor).select_related(None).select_for_update().get(pk=ticket_id)
    except (Ticket.DoesNotExist, ValueError, TypeError):
        raise NotFound("No such ticket.") from None
    if ticket.created_by_id != actor.pk and not can(actor, Cap.CLOSE_ANY_TICKET):
        raise NotAllowed("Only the ticket's engineer or a support manager can close it.")
    if ticket.status != Ticket.Status.OPEN:
        raise InvalidState("This ticket is already completed.", {"status": ticket.status})
    now = timezone.now()
    open_requests = (
        AccessRequest.objects.select_for_update()
        .filter(ticket=ticket, status__in=AccessRequest.OPEN)
        .order_by("pk")
    )
    for access_request in open_requests:
        _end_request(access_request, actor=actor, now=now, why="Ticket closed")
    ticket.status = Ticket.Status.COMPLETED
    ticket.closed_at = now
    ticket.save(update_fields=["status", "closed_at"])
    return ticket
