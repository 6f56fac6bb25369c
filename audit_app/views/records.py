"""Audit search, its export and one record."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from lockbox_site.web import requires
from tenants_app.roles import Cap

from ..export import audit_csv_response
from ..filters import AuditRecordFilter
from ..labels import OPERATION_LABELS, RECORD_TYPE_LABELS
from ..models import AuditRecord
from ..selectors import audit_records_for_user

PAGE_SIZE = 50
COUNT_LIMIT = 1000


@requires(Cap.SEARCH_AUDIT)
def search(request):
    """Newest first, 50 at a time, by keyset on the tenant's chain position: no COUNT, no OFFSET.

    A tenant's records are appended under its chain lock with the time taken inside it, so
    `seq` order is time order and `seq < before` walks the unique (tenant, seq) index.
    """
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


@requires(Cap.SEARCH_AUDIT)
def export(request):
    filterset = AuditRecordFilter(request.GET, queryset=audit_records_for_user(request.user))
    if not filterset.is_valid():
        messages.error(request, "Fix the search before exporting.")
        return redirect("audit:search")
    return audit_csv_response(filterset.qs, request.user.tenant.slug)


@requires(Cap.SEARCH_AUDIT)
def record_detail(request, pk):
    try:
        record = audit_records_for_user(request.user).get(pk=pk)
    except (AuditRecord.DoesNotExist, ValueError):
        raise Http404("No such audit record.") from None
    return render(request, "audit_app/record_detail.html", {"nav": "audit", "record": record})
