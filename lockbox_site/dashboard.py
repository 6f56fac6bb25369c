"""Home: the dashboard of every role. It reads requests, grants and the audit log, so it lives
in the project layer, above the apps, and tenants_app imports none of them."""

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from audit_app.selectors import audit_records_for_user
from requests_app.models import AccessRequest
from requests_app.selectors import access_requests_for_user
from tenants_app.roles import Cap, can


def _outcomes_last_30_days(requests, statuses):
    since = timezone.now() - timedelta(days=30)
    rows = (
        requests.filter(created_at__gte=since).order_by().values("status").annotate(n=Count("id"))
    )
    labels = dict(AccessRequest.Status.choices)
    counts = {row["status"]: row["n"] for row in rows}
    top = max(counts.values(), default=0) or 1
    return [
        {
            "status": s,
            "label": labels[s],
            "count": counts.get(s, 0),
            "width": round(100 * counts.get(s, 0) / top),
            # The bar's width as a class (CSP allows no inline style), in steps of 5 %.
            "step": 5 * round(20 * counts.get(s, 0) / top),
        }
        for s in statuses
    ]


@login_required
def home(request):
    user = request.user
    now = timezone.now()
    requests = access_requests_for_user(user).prefetch_related(None)
    active = requests.open_at(now)
    # A question stops the deadline (SPEC 10): such a request waits whatever its expires_at.
    undecided = Q(expires_at__gt=now) | Q(status=AccessRequest.Status.INFO_REQUESTED)
    if can(user, Cap.DECIDE_REQUESTS):
        # An emergency access waits for the customer's review as a request waits for approval.
        review_due = Q(emergency=True, review_status__in=["pending", "overdue"])
        waiting = requests.filter(
            Q(status="pending_customer", expires_at__gt=now) | review_due
        ).order_by("-created_at")
    elif can(user, Cap.DECIDE_INTERNALLY):
        waiting = requests.filter(status="pending_internal", expires_at__gt=now)
    elif can(user, Cap.REQUEST_ACCESS):
        waiting = requests.filter(undecided, status__in=AccessRequest.PENDING)
    else:
        waiting = requests.none()
    sees_requests = requests.query.is_empty() is False
    statuses = AccessRequest.Status.values
    if can(user, Cap.VIEW_REQUESTS):  # the provider's internal stage is not the customer's
        statuses = [s for s in statuses if s != AccessRequest.Status.PENDING_INTERNAL]
    outcomes = _outcomes_last_30_days(requests, statuses) if sees_requests else []
    context = {
        "nav": "home",
        "sees_requests": sees_requests,
        "waiting": waiting.select_related("ticket", "requester")[:10],
        "waiting_count": waiting.count(),
        "active": active.select_related("ticket", "requester", "tenant")[:10],
        "active_count": active.count(),
        "outcomes": outcomes,
        "outcomes_max": max([o["count"] for o in outcomes], default=0) or 1,
        "audit_week": audit_records_for_user(user)
        .filter(created_at__gte=now - timedelta(days=7))
        .count()
        if can(user, Cap.SEARCH_AUDIT)
        else None,
        "has_role": bool(user.groups.exists()),
        "refused_since": now - timedelta(days=1),  # the "refused attempts" link's start
        "failed_today": audit_records_for_user(user)
        .filter(Q(result="failure"), created_at__gte=now - timedelta(days=1))
        .count()
        if can(user, Cap.SEARCH_AUDIT)
        else None,
    }
    return render(request, "home.html", context)
