"""The request pages: the queues, a request, its decisions and Request access."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from audit_app.models import AuditRecord
from lockbox_site.errors import ApplicationError
from lockbox_site.sessions import kept_form, login_required_keeping_form
from lockbox_site.web import client_ip, form_errors, raise_http, requires
from tenants_app.policy import tenant_policy
from tenants_app.roles import Cap, can

from .. import services
from ..evidence import evidence_allowed, evidence_response
from ..forms import (
    CUSTOMER_STATUS_FILTERS,
    STATUS_FILTERS,
    AccessRequestForm,
    AnswerForm,
    CommentForm,
    DecisionForm,
    EmergencyForm,
    ExtendForm,
    QuestionForm,
    ReviewForm,
)
from ..models import AccessRequest
from ..outcomes import access_ended_message, outcome_message
from ..selectors import access_requests_for_user, tickets_for_user
from ..services.common import customer_approvals
from .common import UPDATED, _get_access_request_for_user, _get_ticket_for_user, _nav_for


def _request_list(request, queryset, *, nav, title, crumbs="", filters=STATUS_FILTERS, default=""):
    """A filterable list; `status=all` (or an unknown value) shows every status."""
    status = request.GET.get("status", default)
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("id")))
    if status not in dict(filters):
        status = ""
    if status:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, 25).get_page(request.GET.get("page"))
    selected = None
    if request.GET.get("selected"):
        selected = _get_access_request_for_user(request, request.GET["selected"])
    filters = [
        (value or "all", label, sum(counts.values()) if not value else counts.get(value, 0))
        for value, label in filters
    ]
    context = {
        "nav": nav,
        "title": title,
        "crumbs": crumbs,
        "page": page,
        "status": status or "all",
        "filters": filters,
        # A customer's queue holds only its own organisation: the column would say nothing.
        "show_org": not can(request.user, Cap.VIEW_REQUESTS),
        **(_detail_context(request, selected) if selected else {}),
        # A decision taken in the panel comes back to this queue, on the same filter.
        "back": f"{request.path}?status={status or 'all'}",
    }
    return render(request, "requests_app/request_list.html", context)


@never_cache  # decision pages: never served from a cache or the back button's copy
@requires(Cap.VIEW_REQUESTS)
def customer_requests(request):
    return _request_list(
        request,
        access_requests_for_user(request.user),
        nav="requests",
        title="Customer Lockbox Requests",
        crumbs="Support",
        # A customer never sees the provider's internal stage, and its queue opens on what
        # waits for it (SPEC 8).
        filters=CUSTOMER_STATUS_FILTERS,
        default=AccessRequest.Status.PENDING_CUSTOMER,
    )


@never_cache  # decision pages: never served from a cache or the back button's copy
@requires(Cap.REQUEST_ACCESS)
def my_requests(request):
    return _request_list(
        request, access_requests_for_user(request.user), nav="mine", title="My requests"
    )


@never_cache  # decision pages: never served from a cache or the back button's copy
@requires(Cap.DECIDE_INTERNALLY)
def internal_queue(request):
    queryset = access_requests_for_user(request.user).filter(status="pending_internal")
    # One stage only: a status filter would offer nothing here.
    return _request_list(
        request, queryset, nav="internal", title="Pending internal approval", filters=[("", "All")]
    )


@never_cache  # decision pages: never served from a cache or the back button's copy
@requires(Cap.DECIDE_INTERNALLY)
def all_requests(request):
    return _request_list(
        request, access_requests_for_user(request.user), nav="all", title="All requests"
    )


def _minutes_left(seconds) -> str:
    if seconds is None:
        return ""
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _granted(access_request, approvals) -> int | None:
    """The shorter window the approvers chose, if they did (the smallest wins)."""
    chosen = [a.duration_minutes for a in approvals if a.duration_minutes]
    if chosen and min(chosen) < access_request.duration_minutes:
        return min(chosen)
    return None


def _detail_context(request, access_request, decision_form=None, error=None):
    now = timezone.now()
    approvals = customer_approvals(access_request)
    history = AuditRecord.objects.filter(
        tenant_id=access_request.tenant_id, request_id=access_request.pk
    ).order_by("seq")
    return {
        "selected": access_request,
        # Every button on the page: offered exactly when pressing it would succeed.
        "allowed_actions": services.allowed_actions(request.user, access_request, now),
        "approvals": approvals,
        "granted_minutes": _granted(access_request, approvals),
        "paused_left": _minutes_left(access_request.deadline_paused_seconds),
        "comment_required": tenant_policy(access_request.tenant).require_decision_comment,
        "min_minutes": settings.LOCKBOX_MIN_ACCESS_MINUTES,
        "max_minutes": tenant_policy(access_request.tenant).max_access_minutes,
        "window_open": access_request.window_open_at(now),
        "can_download_evidence": evidence_allowed(request.user),
        "history": history,
        "decision_form": decision_form or DecisionForm(),
        "comment_form": CommentForm(),
        "error": error,
        "kept": kept_form(request, access_request.pk),
    }


@never_cache  # decision pages: never served from a cache or the back button's copy
@login_required
def request_detail(request, pk):
    access_request = _get_access_request_for_user(request, pk)
    return render(
        request,
        "requests_app/request_detail.html",
        {"nav": _nav_for(request.user), **_detail_context(request, access_request)},
    )


@never_cache
@login_required
def request_state(request, pk):
    """Whether the request's access is open now: a page left open polls it, so its countdown
    stops, and says why, when a revoke (or anything else) ends the access early."""
    access_request = _get_access_request_for_user(request, pk)
    open_now = access_request.window_open_at(timezone.now())
    return JsonResponse(
        {
            "status": access_request.status,
            "open": open_now,
            "message": "" if open_now else access_ended_message(access_request),
        }
    )


@login_required
def request_evidence(request, pk):
    """`Download evidence`: the API's evidence bundle, as a file."""
    access_request = _get_access_request_for_user(request, pk)
    try:
        return evidence_response(access_request, request.user, download=True)
    except ApplicationError as exc:
        raise_http(exc)
        raise


def _act(request, pk, run, form_class=CommentForm, action=""):
    """Run one service for a POSTed action; show its refusal on the request's page."""
    access_request = _get_access_request_for_user(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            result = run(form.cleaned_data)
        except ApplicationError as exc:
            raise_http(exc)
            access_request = _get_access_request_for_user(request, pk)
            context = _detail_context(request, access_request, error=exc.message)
            return render(
                request,
                "requests_app/request_detail.html",
                {"nav": _nav_for(request.user), **context},
                status=exc.status_code,
            )
        if isinstance(result, AccessRequest):
            messages.success(request, f"{outcome_message(result, action)} {UPDATED}.")
        else:
            messages.success(request, UPDATED)
        if isinstance(result, AccessRequest) and result.pk != access_request.pk:
            # An extension is a new request: say so, and show it.
            messages.info(
                request,
                f"Extension request {result.pk} was sent for internal approval; if approved "
                f"it starts when request {access_request.pk}'s access ends.",
            )
            return redirect("requests:detail", result.pk)
        back = request.POST.get("back", "")
        # Browsers read "/\\evil.example" as "//evil.example": let Django's check decide.
        if not back.startswith("/") or not url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            back = reverse("requests:detail", args=[pk])
        return redirect(back)
    problems = "; ".join(
        f"{form.fields[name].label or name.replace('_', ' ').capitalize()}: {' '.join(errors)}"
        for name, errors in form.errors.items()
    )
    context = _detail_context(request, access_request, error=f"Check the form: {problems}")
    return render(
        request,
        "requests_app/request_detail.html",
        {"nav": _nav_for(request.user), **context},
        status=400,
    )


@never_cache
@login_required_keeping_form("decide")
@require_POST
def request_decide(request, pk):
    def run(data):
        return services.access_request_decide(
            actor=request.user,
            access_request_id=pk,
            approve=data["decision"] == "approve",
            comment=data["comment"],
            duration_minutes=data["duration_minutes"] if data["decision"] == "approve" else None,
            client_ip=client_ip(request),
        )

    return _act(request, pk, run, DecisionForm, action=request.POST.get("decision", ""))


def _form_action(action: str, service, form_class=CommentForm):
    """The view of one POSTed request form whose fields are its service's own arguments."""

    @never_cache
    @login_required_keeping_form(action)
    @require_POST
    def view(request, pk):
        return _act(
            request,
            pk,
            lambda data: service(
                actor=request.user, access_request_id=pk, client_ip=client_ip(request), **data
            ),
            form_class,
            action=action,
        )

    return view


request_ask = _form_action("ask", services.access_request_request_info, QuestionForm)
request_answer = _form_action("answer", services.access_request_answer, AnswerForm)
request_extend = _form_action("extend", services.access_request_extend, ExtendForm)
request_emergency = _form_action(
    "emergency", services.access_request_emergency_approve, EmergencyForm
)
request_review = _form_action("review", services.access_request_review, ReviewForm)
request_cancel = _form_action("cancel", services.access_request_cancel)
request_revoke = _form_action("revoke", services.access_request_revoke)


@requires(Cap.REQUEST_ACCESS)
def request_create(request):
    tickets = tickets_for_user(request.user).filter(status="open")
    ticket = None
    if request.GET.get("ticket") or request.POST.get("ticket"):
        ticket = _get_ticket_for_user(
            request, request.GET.get("ticket") or request.POST.get("ticket")
        )
    form = None
    status = 200
    if ticket is not None:
        cloud_pcs = ticket.tenant.cloud_pcs.all()
        form = AccessRequestForm(
            request.POST if request.method == "POST" else None, cloud_pcs=cloud_pcs
        )
        if request.method == "POST" and form.is_valid():
            try:
                access_request = services.access_request_create(
                    actor=request.user,
                    ticket_id=ticket.pk,
                    cloud_pc_ids=form.cleaned_data["cloud_pcs"],
                    reason=form.cleaned_data["reason"],
                    reason_type=form.cleaned_data["reason_type"]
                    or AccessRequest.ReasonType.CUSTOMER_INITIATED_SUPPORT,
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    starts_at=form.cleaned_data["starts_at"],
                    client_ip=client_ip(request),
                )
            except ApplicationError as exc:
                raise_http(exc)
                form_errors(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request, f"Request {access_request.pk} was sent for internal approval."
                )
                return redirect("requests:detail", access_request.pk)
        elif request.method == "POST":
            status = 400
    return render(
        request,
        "requests_app/request_create.html",
        {"nav": "request_access", "tickets": tickets, "ticket": ticket, "form": form},
        status=status,
    )
