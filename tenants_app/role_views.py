"""`Settings` > `Roles`: a Global Administrator gives and takes its tenant's roles, and ends
sign-in lockouts. Each row is its own form, so a Save changes exactly one user."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from lockbox_site.errors import ApplicationError, NotAllowed
from lockbox_site.web import client_ip, raise_http

from .lockouts import locked_out_usernames
from .role_services import user_roles_set, user_unlock
from .roles import roles_of_kind
from .selectors import tenant_users


class UserRolesForm(forms.Form):
    roles = forms.MultipleChoiceField(required=False)

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = [(role, role) for role in roles_of_kind(kind)]


def _users_or_403(user):
    try:
        return tenant_users(user)
    except NotAllowed:
        raise PermissionDenied from None


def _page(request, error=None, status=200):
    user = request.user
    page = Paginator(_users_or_403(user), 50).get_page(request.GET.get("page"))
    locked = locked_out_usernames(member.username for member in page)
    with_mfa = set(
        TOTPDevice.objects.filter(user__in=list(page), confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [
        {
            "user": member,
            "roles": {group.name for group in member.groups.all()},
            "locked_out": member.username in locked,
            "has_mfa": member.pk in with_mfa,
        }
        for member in page
    ]
    context = {
        "nav": "roles",
        "page": page,
        "rows": rows,
        "role_names": roles_of_kind(user.tenant.kind),
        "error": error,
    }
    return render(request, "tenants_app/roles.html", context, status=status)


@login_required
def roles(request):
    return _page(request)


@login_required
@require_POST
def user_roles_save(request, pk):
    # The service checks the role (and audits a refusal); the form only checks the input.
    form = UserRolesForm(request.POST, kind=request.user.tenant.kind)
    if not form.is_valid():
        return _page(request, error=" ".join(form.errors["roles"]), status=400)
    try:
        user = user_roles_set(
            actor=request.user,
            user_id=pk,
            roles=form.cleaned_data["roles"],
            client_ip=client_ip(request),
        )
    except ApplicationError as exc:
        raise_http(exc)
        return _page(request, error=exc.message, status=exc.status_code)
    messages.success(request, f"The roles of {user.get_full_name() or user.username} are saved.")
    return redirect("roles")


@login_required
@require_POST
def user_unlock_view(request, pk):
    try:
        user = user_unlock(actor=request.user, user_id=pk, client_ip=client_ip(request))
    except ApplicationError as exc:
        raise_http(exc)
        raise
    messages.success(request, f"{user.get_full_name() or user.username} can sign in again.")
    return redirect("roles")
