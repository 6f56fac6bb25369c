from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone

from audit_app.selectors import audit_records_for_user
from lockbox_site.errors import InvalidInput
from lockbox_site.web import client_ip, form_errors
from requests_app.models import AccessRequest
from requests_app.selectors import access_requests_for_user

from .roles import Cap, can
from .services import lockbox_setting_change


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
            "label": labels[s],
            "count": counts.get(s, 0),
            "width": round(100 * counts.get(s, 0) / top),
        }
        for s in statuses
    ]


@login_required
def home(request):
    user = request.user
    now = timezone.now()
    requests = access_requests_for_user(user).prefetch_related(None)
    active = requests.open_at(now)
    if can(user, Cap.DECIDE_REQUESTS):
        waiting = requests.filter(status="pending_customer", expires_at__gt=now)
    elif can(user, Cap.DECIDE_INTERNALLY):
        waiting = requests.filter(status="pending_internal", expires_at__gt=now)
    elif can(user, Cap.REQUEST_ACCESS):
        waiting = requests.filter(status__in=AccessRequest.PENDING, expires_at__gt=now)
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
        "failed_today": audit_records_for_user(user)
        .filter(Q(result="failure"), created_at__gte=now - timedelta(days=1))
        .count()
        if can(user, Cap.SEARCH_AUDIT)
        else None,
    }
    return render(request, "tenants_app/home.html", context)


@login_required
def org_settings(request):
    if not can(request.user, Cap.MANAGE_LOCKBOX_SETTING):
        raise PermissionDenied
    return render(request, "tenants_app/org_settings.html", {"nav": "settings"})


class LockboxSettingForm(forms.Form):
    enabled = forms.BooleanField(
        required=False, label="Require approval for all data access requests"
    )


@login_required
def lockbox_settings(request):
    user = request.user
    if not can(user, Cap.MANAGE_LOCKBOX_SETTING):
        raise PermissionDenied
    tenant = user.tenant
    form = LockboxSettingForm(
        request.POST if request.method == "POST" else None,
        initial={"enabled": tenant.lockbox_enabled},
    )
    if request.method == "POST" and form.is_valid():
        try:
            lockbox_setting_change(
                actor=user, enabled=form.cleaned_data["enabled"], client_ip=client_ip(request)
            )
        except InvalidInput as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Your Customer Lockbox setting has been saved.")
            return redirect("lockbox_settings")
    tenant.refresh_from_db()
    return render(
        request,
        "tenants_app/lockbox_settings.html",
        {"nav": "settings", "form": form, "tenant": tenant},
        status=400 if form.errors else 200,
    )
