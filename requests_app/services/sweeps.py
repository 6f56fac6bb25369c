"""System transitions that move overdue requests forward (run by beat and `lockbox_sweep`).

Each one re-checks the state under the row lock, so a request that a person decided a moment
earlier is left alone, and running a sweep twice changes nothing the second time.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lockbox_site.errors import InvalidState, NotFound

from ..models import AccessRequest, Ticket
from .transitions import apply_transition

Status = AccessRequest.Status


def _applied(name: str, access_request_id, now) -> AccessRequest | None:
    """Apply a system row; None if the request was decided, ended or deleted meanwhile."""
    try:
        return apply_transition(name, actor=None, access_request_id=access_request_id, now=now)
    except (InvalidState, NotFound):
        return None


def access_request_expire(*, access_request_id, now=None) -> bool:
    """A pending request past its decision deadline becomes expired. True if this call did it."""
    return _applied("expire", access_request_id, now or timezone.now()) is not None


@transaction.atomic
def access_request_complete(*, access_request_id, now=None) -> bool:
    """An approved request whose window has ended becomes completed, and so may its ticket."""
    now = now or timezone.now()
    access_request = _applied("complete", access_request_id, now)
    if access_request is None:
        return False
    # The ticket completes with its last open request; a sibling still pending or active keeps
    # it open (our reading of SPEC section 2, which assumes one request per ticket).
    siblings_open = (
        AccessRequest.objects.filter(
            ticket_id=access_request.ticket_id, status__in=AccessRequest.OPEN
        )
        .exclude(pk=access_request.pk)
        .exists()
    )
    if not siblings_open:
        Ticket.objects.filter(pk=access_request.ticket_id, status=Ticket.Status.OPEN).update(
            status=Ticket.Status.COMPLETED, closed_at=now
        )
    return True


def access_request_review_overdue(*, access_request_id, now=None) -> bool:
    """An emergency access nobody reviewed within 72 hours is flagged overdue (SPEC 10)."""
    return _applied("review_overdue", access_request_id, now or timezone.now()) is not None


def _overdue_ids(queryset, order_field: str, limit: int) -> list[int]:
    return list(queryset.order_by(order_field).values_list("pk", flat=True)[:limit])


def sweep(*, now=None, batch_size: int | None = None) -> dict[str, int]:
    """Expire overdue pending requests and complete ended windows, a short transaction each."""
    now = now or timezone.now()
    batch_size = batch_size or settings.LOCKBOX_SWEEP_BATCH
    counts = {"expired": 0, "completed": 0, "review_overdue": 0}
    jobs = (
        (
            "expired",
            AccessRequest.objects.filter(
                status__in=AccessRequest.DEADLINE_RUNS, expires_at__lte=now
            ),
            "expires_at",
            access_request_expire,
        ),
        (
            "completed",
            AccessRequest.objects.filter(status=Status.APPROVED, window_ends_at__lte=now),
            "window_ends_at",
            access_request_complete,
        ),
        (
            "review_overdue",
            AccessRequest.objects.filter(
                review_status=AccessRequest.ReviewStatus.PENDING, review_due_at__lte=now
            ),
            "review_due_at",
            access_request_review_overdue,
        ),
    )
    for name, queryset, order_field, transition in jobs:
        while ids := _overdue_ids(queryset, order_field, batch_size):
            done = sum(transition(access_request_id=pk, now=now) for pk in ids)
            counts[name] += done
            if done == 0:  # every row was taken by someone else; let them finish
                break
    return counts
