import re

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from lockbox_site.errors import InvalidInput
from lockbox_site.web import client_ip, form_errors

from . import policy
from .roles import Cap, can
from .services import lockbox_setting_change


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
    require_mfa_for_decisions = forms.BooleanField(
        required=False,
        label=policy.LABELS["require_mfa_for_decisions"],
        help_text="Approve, deny, revoke, review and every settings or role change then need a "
        "code from an authenticator verified in the last 15 minutes (My account > Security).",
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
