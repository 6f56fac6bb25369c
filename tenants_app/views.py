import re
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

from . import policy
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
        "refused_since": now - timedelta(days=1),  # the "refused attempts" link's start
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
    """The Customer Lockbox panel. The form reads what was typed; every rule (bounds, e-mail
    addresses) is the service's, so the panel and the API say the same thing."""

    required_approvals = forms.IntegerField(
        label=policy.LABELS["required_approvals"],
        help_text="Distinct approvers in your organisation who must each approve a request.",
        widget=forms.NumberInput(attrs={"min": policy.APPROVALS[0], "max": policy.APPROVALS[1]}),
    )
    pending_ttl_hours = forms.IntegerField(
        label=policy.LABELS["pending_ttl_hours"],
        help_text="A request nobody decides within this time expires.",
        widget=forms.NumberInput(
            attrs={"min": policy.PENDING_TTL_HOURS[0], "max": policy.PENDING_TTL_HOURS[1]}
        ),
    )
    max_access_minutes = forms.IntegerField(
        label=policy.LABELS["max_access_minutes"],
        help_text="The longest time an engineer may be given.",
        widget=forms.NumberInput(),
    )
    require_decision_comment = forms.BooleanField(
        required=False, label=policy.LABELS["require_decision_comment"]
    )
    allow_emergency_access = forms.BooleanField(
        required=False,
        label=policy.LABELS["allow_emergency_access"],
        help_text="A Support Manager may approve a request about a production alert at once; "
        "your approvers review it afterwards.",
    )
    notification_emails = forms.CharField(
        required=False,
        label=policy.LABELS["notification_emails"],
        help_text=f"Told of every pending request. One address per line, at most "
        f"{policy.MAX_NOTIFICATION_EMAILS}.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    enabled = forms.BooleanField(required=False, label=policy.LABELS["enabled"])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        low, high = policy.access_minutes_bounds()
        self.fields["max_access_minutes"].widget.attrs.update(min=low, max=high)
        # A text field left out of the post (an older client, a partial form) keeps its value;
        # checkboxes cannot be told apart from unticked ones, so they are always sent.
        if self.is_bound:
            for name in TEXT_FIELDS:
                if name not in self.data:
                    self.fields[name].required = False

    def clean_notification_emails(self):
        text = self.cleaned_data["notification_emails"]
        return [line for line in re.split(r"[\s,;]+", text) if line]

    def changes(self) -> dict:
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name not in TEXT_FIELDS or name in self.data
        }


TEXT_FIELDS = (
    "required_approvals",
    "pending_ttl_hours",
    "max_access_minutes",
    "notification_emails",
)


def _initial(tenant) -> dict:
    effective = policy.tenant_policy(tenant)  # what is enforced, as the API shows it
    return {
        "enabled": tenant.lockbox_enabled,
        **{name: getattr(effective, name) for name in policy.POLICY_FIELDS},
        "notification_emails": "\n".join(effective.notification_emails),
    }


@login_required
def lockbox_settings(request):
    user = request.user
    if not can(user, Cap.MANAGE_LOCKBOX_SETTING):
        raise PermissionDenied
    tenant = user.tenant
    form = LockboxSettingForm(
        request.POST if request.method == "POST" else None, initial=_initial(tenant)
    )
    if request.method == "POST" and form.is_valid():
        try:
            lockbox_setting_change(actor=user, changes=form.changes(), client_ip=client_ip(request))
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
