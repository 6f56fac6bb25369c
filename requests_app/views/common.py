"""Helpers every request page shares: one getter per model (404 otherwise) and the nav."""

from django.http import Http404

from tenants_app.roles import Cap, can

from ..models import AccessRequest, Ticket
from ..selectors import access_requests_for_user, tickets_for_user

UPDATED = "Your request has been updated"


def _get_access_request_for_user(request, pk) -> AccessRequest:
    try:
        return access_requests_for_user(request.user).get(pk=pk)
    except (AccessRequest.DoesNotExist, ValueError):
        raise Http404("No such access request.") from None


def _get_ticket_for_user(request, pk) -> Ticket:
    try:
        return tickets_for_user(request.user).get(pk=pk)
    except (Ticket.DoesNotExist, ValueError):
        raise Http404("No such ticket.") from None


def _nav_for(user):
    if can(user, Cap.VIEW_REQUESTS):
        return "requests"
    if can(user, Cap.DECIDE_INTERNALLY):
        return "internal"
    return "mine"
