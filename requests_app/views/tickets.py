"""Support tickets: the provider's list, one ticket and closing it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip, form_errors, raise_http, requires
from tenants_app.roles import Cap, can
from tenants_app.selectors import customer_tenants

from .. import services
from ..forms import (
    TicketForm,
)
from ..selectors import tickets_for_user
from .common import _get_ticket_for_user


@requires(Cap.OPEN_TICKETS, Cap.CLOSE_ANY_TICKET, any_of=True)
def ticket_list(request):
    user = request.user
    form = TicketForm(
        request.POST if request.method == "POST" else None, tenants=customer_tenants()
    )
    status = 200
    if request.method == "POST" and not can(user, Cap.OPEN_TICKETS):
        raise PermissionDenied  # a manager reads tickets; only an engineer opens one
    if request.method == "POST":
        if form.is_valid():
            try:
                ticket = services.ticket_open(
                    actor=user,
                    tenant_slug=form.cleaned_data["tenant"],
                    title=form.cleaned_data["title"],
                    description=form.cleaned_data["description"],
                )
            except ApplicationError as exc:
                raise_http(exc)
                form_errors(form, exc)
                status = exc.status_code
            else:
                messages.success(request, f"Ticket {ticket.number} is open.")
                return redirect("tickets:detail", ticket.pk)
        else:
            status = 400
    page = Paginator(tickets_for_user(user), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "requests_app/ticket_list.html",
        {"nav": "tickets", "page": page, "form": form},
        status=status,
    )


@login_required
def ticket_detail(request, pk):
    ticket = _get_ticket_for_user(request, pk)
    access_requests = ticket.access_requests.select_related("requester").order_by("-created_at")
    can_close = ticket.status == "open" and (
        ticket.created_by_id == request.user.pk or can(request.user, Cap.CLOSE_ANY_TICKET)
    )
    return render(
        request,
        "requests_app/ticket_detail.html",
        {
            "nav": "tickets",
            "ticket": ticket,
            "access_requests": access_requests,
            "can_close": can_close,
        },
    )


@login_required
@require_POST
def ticket_close(request, pk):
    _get_ticket_for_user(request, pk)
    try:
        services.ticket_close(actor=request.user, ticket_id=pk, client_ip=client_ip(request))
    except ApplicationError as exc:
        raise_http(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, "The ticket is closed; its access has ended.")
    return redirect("tickets:detail", pk)
