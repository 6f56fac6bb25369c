"""Audit retention policies: the list, the form and deleting one."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip, form_errors, raise_http, requires
from tenants_app.roles import Cap

from ..forms import RetentionPolicyForm
from ..models import RetentionPolicy
from ..policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)
from ..selectors import retention_policies_for_user


@requires(Cap.SEARCH_AUDIT)
def policies(request):
    return render(
        request,
        "audit_app/policies.html",
        {
            "nav": "retention",
            "policies": retention_policies_for_user(request.user),
            "default_days": settings.AUDIT_DEFAULT_RETENTION_DAYS,
        },
    )


def _policy_form_view(request, policy=None):
    # A new policy comes after the tenant's others (lowest precedence) unless told otherwise.
    last = retention_policies_for_user(request.user).order_by("-priority").first()
    initial = {"priority": min(10000, last.priority + 1) if last else 1}
    if policy is not None:
        initial = {
            f: getattr(policy, f)
            for f in ("name", "description", "record_types", "operations", "duration", "priority")
        }
    form = RetentionPolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if policy is None:
                    retention_policy_create(
                        actor=request.user, data=form.cleaned_data, client_ip=client_ip(request)
                    )
                else:
                    retention_policy_update(
                        actor=request.user,
                        policy_id=policy.pk,
                        data=form.cleaned_data,
                        client_ip=client_ip(request),
                    )
            except ApplicationError as exc:
                raise_http(exc)
                form_errors(form, exc)
                status = exc.status_code
            else:
                messages.success(request, "The retention policy has been saved.")
                return redirect("audit:policies")
        else:
            status = 400
    return render(
        request,
        "audit_app/policy_form.html",
        {"nav": "retention", "form": form, "policy": policy},
        status=status,
    )


@requires(Cap.MANAGE_RETENTION)
def policy_create(request):
    return _policy_form_view(request)


def _get_policy_for_user(request, pk):
    try:
        return retention_policies_for_user(request.user).get(pk=pk)
    except (RetentionPolicy.DoesNotExist, ValueError):
        raise Http404("No such retention policy.") from None


@requires(Cap.MANAGE_RETENTION)
def policy_edit(request, pk):
    return _policy_form_view(request, _get_policy_for_user(request, pk))


@login_required
@require_POST
def policy_delete(request, pk):
    policy = _get_policy_for_user(request, pk)
    try:
        retention_policy_delete(
            actor=request.user, policy_id=policy.pk, client_ip=client_ip(request)
        )
    except ApplicationError as exc:
        raise_http(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"The retention policy {policy.name} has been deleted.")
    return redirect("audit:policies")
