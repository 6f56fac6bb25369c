from django.db.models import QuerySet
from django.utils import timezone

from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can

from .models import AccessRequest, Ticket


def tickets_for_user(user) -> QuerySet[Ticket]:
    """Managers see every ticket, engineers their own, everyone else none."""
    base = Ticket.objects.select_related("tenant", "created_by")
    if can(user, Cap.CLOSE_ANY_TICKET):
        return base
    if can(user, Cap.OPEN_TICKETS):
        return base.filter(created_by=user)
    return base.none()


def access_requests_for_user(user) -> QuerySet[AccessRequest]:
    """Customer approvers see their tenant's (once internally approved), managers all, engineers
    their own."""
    base = AccessRequest.objects.select_related("ticket", "tenant", "requester").prefetch_related(
        "cloud_pcs", "decisions__actor", "messages__author"
    )
    if can(user, Cap.VIEW_REQUESTS):
        return base.filter(tenant_id=user.tenant_id, reached_customer_at__isnull=False)
    if can(user, Cap.DECIDE_INTERNALLY):
        return base
    if can(user, Cap.REQUEST_ACCESS):
        return base.filter(requester=user)
    return base.none()


def active_grants(user, moment=None) -> QuerySet[AccessRequest]:
    moment = moment or timezone.now()
    return AccessRequest.objects.open_at(moment).filter(requester=user)


def cloud_pcs_for_user(user) -> QuerySet[CloudPC]:
    """A customer admin's own Cloud PCs; an engineer's, those in its open grants."""
    if can(user, Cap.VIEW_CLOUD_PCS):
        return CloudPC.objects.filter(tenant_id=user.tenant_id).select_related("tenant")
    if can(user, Cap.REQUEST_ACCESS):
        grant_ids = active_grants(user).values("id")
        return (
            CloudPC.objects.filter(access_requests__in=grant_ids)
            .distinct()
            .select_related("tenant")
        )
    return CloudPC.objects.none()
