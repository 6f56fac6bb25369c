from django.db.models import QuerySet
from django.utils import timezone

from lockbox_site.compiled import Compiled, is_prefetched, keep_prefetched
from lockbox_site.folded import Fold
from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can

from .models import AccessRequest, Decision, RequestMessage, Ticket


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
    return scoped(base, *request_scope(user))


def request_scope(user) -> tuple[str, int | None]:
    """Which requests a user sees, as (scope, the id it is limited to): the one rule, which
    access_requests_for_user and the transitions' compiled locking read both apply."""
    if can(user, Cap.VIEW_REQUESTS):
        return "tenant", user.tenant_id
    if can(user, Cap.DECIDE_INTERNALLY):
        return "all", None
    if can(user, Cap.REQUEST_ACCESS):
        return "requester", user.pk
    return "none", None


def scoped(queryset: QuerySet[AccessRequest], scope: str, value) -> QuerySet[AccessRequest]:
    if scope == "tenant":
        return queryset.filter(tenant_id=value, reached_customer_at__isnull=False)
    if scope == "all":
        return queryset
    if scope == "requester":
        return queryset.filter(requester=value)
    return queryset.none()


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


# A request's relations, read once each and kept on it as prefetch_related would keep them: a
# transition's checks, its signed statement and the API's response all read them, and the
# statements are compiled once (lockbox_site.compiled), since every decision sends them.
_RELATIONS = {
    "decisions": Compiled(
        lambda request_id: (
            Decision.objects.filter(access_request_id=request_id)
            .select_related("actor")
            .order_by("created_at", "id")
        )
    ),
    "cloud_pcs": Compiled(lambda request_id: CloudPC.objects.filter(access_requests=request_id)),
    "messages": Compiled(
        lambda request_id: (
            RequestMessage.objects.filter(access_request_id=request_id)
            .select_related("author")
            .order_by("created_at", "id")
        )
    ),
}


# The same relations as JSON columns of a statement that reads requests (lockbox_site.folded):
# a transition's locking read carries them, so they cost no statement of their own.
_FOLDS = {
    "decisions": Fold(
        lambda ref: Decision.objects.filter(access_request_id=ref),
        Decision,
        related="actor",
        order=("created_at", "id"),
    ),
    "cloud_pcs": Fold(
        lambda ref: CloudPC.objects.filter(access_requests=ref), CloudPC, order=("name",)
    ),
}


def folded_relations(outer_ref) -> dict:
    """Columns `<name>_rows` for annotate(): the request's decisions and Cloud PCs."""
    return {f"{name}_rows": fold.column(outer_ref) for name, fold in _FOLDS.items()}


def keep_folded_relations(access_request: AccessRequest) -> None:
    """Keep what folded_relations' columns carried as the request's relations, as if read."""
    for name, fold in _FOLDS.items():
        keep_prefetched(
            access_request, name, fold.instances(getattr(access_request, f"{name}_rows"))
        )


def _relation(access_request: AccessRequest, name: str) -> list:
    if not is_prefetched(access_request, name):
        keep_prefetched(access_request, name, _RELATIONS[name].rows(access_request.pk))
    # What `getattr(access_request, name).all()` returns when prefetched, without building a
    # related manager each time: a transition and its response ask about ten times.
    return list(access_request._prefetched_objects_cache[name])


def request_decisions(access_request: AccessRequest) -> list[Decision]:
    """Oldest first, each with its actor."""
    return _relation(access_request, "decisions")


def request_cloud_pcs(access_request: AccessRequest) -> list[CloudPC]:
    return _relation(access_request, "cloud_pcs")


def with_relations(access_request: AccessRequest) -> AccessRequest:
    """The request with its Cloud PCs, decisions and messages loaded (what the API shows)."""
    for name in _RELATIONS:
        _relation(access_request, name)
    return access_request
