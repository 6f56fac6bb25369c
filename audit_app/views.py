from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip, form_errors, raise_http
from tenants_app.roles import Cap, can

from .export import audit_csv_response
from .filters import AuditRecordFilter
from .forms import RetentionPolicyForm
from .labels import OPERATION_LABELS, RECORD_TYPE_LABELS
from .models import AuditRecord, RetentionPolicy
from .policies import (
    retention_policy_create,
    retention_policy_delete,
    retention_policy_update,
)
from .selectors import audit_records_for_user, retention_policies_for_user


def _require(user, cap):
    if not can(user, cap):
        raise PermissionDenied


PAGE_SIZE = 50
COUNT_LIMIT = 1000


@login_required
def search(request):
    """Newest first, 50 at a time, by keyset on the tenant's chain position: no COUNT, no OFFSET.

    A tenant's records are appended under its chain lock with the time taken inside it, so
    `seq` order is time order and `seq < before` walks the unique (tenant, seq) index.
    """
    _require(request.user, Cap.SEARCH_AUDIT)
    filterset = AuditRecordFilter(
        request.GET or None, queryset=audit_records_for_user(request.user)
    )
    valid = filterset.is_valid() if request.GET else True
    before = request.GET.get("before", "")
    if before and not (before.isdigit() and int(before) < 2**63):
        valid = False
    records = filterset.qs.order_by("-seq") if valid else AuditRecord.objects.none()
    if before and valid:
        records = records.filter(seq__lt=int(before))
    # A bounded count: COUNT over at most 1,001 rows says "more than 1,000" without scanning all.
    total = filterset.qs[: COUNT_LIMIT + 1].count() if valid else None
    rows = list(records[: PAGE_SIZE + 1])
    older = rows[PAGE_SIZE - 1].seq if len(rows) > PAGE_SIZE else None
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit_app/search.html",
        {
            "nav": "audit",
            "filter": filterset,
            "records": rows[:PAGE_SIZE],
            "older": older,
            "paged": bool(before),
            "query": query.urlencode(),
            "total": total,
            "more_than": f"{COUNT_LIMIT:,}" if total and total > COUNT_LIMIT else "",
            "record_type_choices": RECORD_TYPE_LABELS,
            "operation_choices": OPERATION_LABELS,
            "chosen_record_types": request.GET.getlist("record_type"),
            "chosen_operations": request.GET.getlist("operation"),
        },
        status=200 if valid else 400,
    )


@login_required
def export(request):
    _require(request.user, Cap.SEARCH_AUDIT)
    filterset = AuditRecordFilter(request.GET, queryset=audit_records_for_user(request.user))
    if not filterset.is_valid():
        messages.error(request, "Fix the search before exporting.")
        return redirect("audit:search")
    return audit_csv_response(filterset.qs, request.user.tenant.slug)


@login_required
def record_detail(request, pk):
    _require(request.user, Cap.SEARCH_AUDIT)
    try:
        record = audit_records_for_user(request.user).get(pk=pk)
    except (AuditRecord.DoesNotExist, ValueError):
        raise Http404("No such audit record.") from None
    return render(request, "audit_app/record_detail.html", {"nav": "audit", "record": record})


@login_required
def policies(request):
    _require(request.user, Cap.SEARCH_AUDIT)
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
    _require(request.user, Cap.MANAGE_RETENTION)
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


@login_required
def policy_create(request):
    return _policy_form_view(request)


def _get_policy_for_user(request, pk):
    try:
        return retention_policies_for_user(request.user).get(pk=pk)
    except (RetentionPolicy.DoesNotExist, ValueError):
        raise Http404("No such retention policy.") from None


@login_required
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
