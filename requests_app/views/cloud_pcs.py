"""A Cloud PC as an engineer reaches it under a grant (every view audited) or a customer sees it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from lockbox_site.web import client_ip
from tenants_app.models import CloudPC
from tenants_app.roles import Cap, can

from .. import services
from ..selectors import cloud_pcs_for_user


@login_required
def cloud_pc_detail(request, pk):
    """An engineer's view of a Cloud PC under a grant; each view is an audited action."""
    action = "diagnostics" if request.GET.get("show") == "diagnostics" else "view"
    user = request.user
    if can(user, Cap.VIEW_CLOUD_PCS):
        try:
            cloud_pc = cloud_pcs_for_user(user).get(pk=pk)
        except (CloudPC.DoesNotExist, ValueError):
            raise Http404("No such Cloud PC.") from None
        return render(
            request,
            "requests_app/cloud_pc.html",
            {"nav": "home", "cloud_pc": cloud_pc, "grant": None, "show_diagnostics": True},
        )
    # A refusal (no grant, revoked, ended) is the 403 page with its reason (ErrorPageMiddleware).
    cloud_pc, grant = services.cloud_pc_operate(
        actor=user, cloud_pc_id=pk, action=action, client_ip=client_ip(request)
    )
    return render(
        request,
        "requests_app/cloud_pc.html",
        {
            "nav": "mine",
            "cloud_pc": cloud_pc,
            "grant": grant,
            "show_diagnostics": action == "diagnostics",
        },
    )


@login_required
@require_POST
def cloud_pc_restart(request, pk):
    cloud_pc, grant = services.cloud_pc_operate(
        actor=request.user, cloud_pc_id=pk, action="restart", client_ip=client_ip(request)
    )
    messages.success(request, f"{cloud_pc.name} is restarting.")
    return redirect("requests:detail", grant.pk)
