"""`Sign in with your organization` on /login/, the provider's return, and `Settings` >
`Single sign-on`.

The provider is called (tenants_app.oidc) before any transaction: the services that write run
after it answered. What a sign-in must remember until the browser comes back (state, nonce,
PKCE verifier) stays in the session; each state works once, and a state seen again is audited
as a replay in its tenant.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip, form_errors, raise_http

from . import oidc
from .backends import PATH as BACKEND_PATH
from .models import IdentityProvider
from .roles import Cap, can, roles_of_kind
from .sso_services import (
    SsoRefused,
    identity_provider_set,
    provider_for_email,
    sso_refusal_record,
    sso_sign_in,
)

FLOWS = "lockbox_sso_flows"  # state -> what the sign-in needs when the browser returns
USED = "lockbox_sso_used"  # state -> provider id, of sign-ins already returned
MAX_FLOWS, MAX_USED = 5, 20
NO_SSO = "No organisation signs in with single sign-on for that address. Use your password."


def _refused(request, message: str, status: int):
    return render(request, "registration/sso_refused.html", {"message": message}, status=status)


def _status(code: str) -> int:
    return 502 if code in ("provider_unreachable", "provider_invalid") else 403


class EmailForm(forms.Form):
    email = forms.EmailField(max_length=254)


@require_POST
def sso_start(request):
    form = EmailForm(request.POST)
    provider = provider_for_email(form.cleaned_data["email"]) if form.is_valid() else None
    if provider is None:
        return _refused(request, NO_SSO, 400)
    email = form.cleaned_data["email"].strip().lower()
    redirect_uri = request.build_absolute_uri(reverse("sso_callback"))
    try:
        url, flow = oidc.authorization_url(provider, redirect_uri, login_hint=email)
    except oidc.SsoError as exc:
        sso_refusal_record(
            provider_id=provider.pk,
            email=email,
            code=exc.code,
            message=exc.message,
            client_ip=client_ip(request),
        )
        return _refused(request, exc.message, _status(exc.code))
    flows = dict(list(request.session.get(FLOWS, {}).items())[-(MAX_FLOWS - 1) :])
    flows[flow.state] = {
        "provider_id": provider.pk,
        "email": email,
        "nonce": flow.nonce,
        "code_verifier": flow.code_verifier,
    }
    request.session[FLOWS] = flows
    # Not a 302: after a form's POST the browser would hold the provider's address to the
    # page's form-action 'self'. The page moves on by itself (meta refresh) or by its link.
    return render(request, "registration/sso_continue.html", {"url": url})


def sso_callback(request):
    state = request.GET.get("state", "")
    flows = request.session.get(FLOWS, {})
    entry = flows.pop(state, None) if state else None
    used = request.session.get(USED, {})
    if entry is None:
        if state in used:
            sso_refusal_record(
                provider_id=used[state],
                email="(replayed sign-in)",
                code="state_replayed",
                message="A sign-in response was used a second time.",
                client_ip=client_ip(request),
            )
            return _refused(request, "This sign-in was already used. Start again.", 400)
        return _refused(request, "This sign-in is not valid or has expired. Start again.", 400)
    used[state] = entry["provider_id"]
    request.session[FLOWS] = flows
    request.session[USED] = dict(list(used.items())[-MAX_USED:])
    audit = {"provider_id": entry["provider_id"], "email": entry["email"]}
    provider = IdentityProvider.objects.filter(pk=entry["provider_id"], enabled=True).first()
    if provider is None:
        return _refused(request, NO_SSO, 400)
    if "error" in request.GET or not request.GET.get("code"):
        message = "Your identity provider did not sign you in."
        sso_refusal_record(**audit, code="provider_error", message=message)
        return _refused(request, message, 403)
    flow = oidc.Flow(state=state, nonce=entry["nonce"], code_verifier=entry["code_verifier"])
    try:
        claims = oidc.signed_in_claims(
            provider,
            flow,
            code=request.GET["code"],
            redirect_uri=request.build_absolute_uri(reverse("sso_callback")),
        )
        user = sso_sign_in(provider_id=provider.pk, claims=claims, client_ip=client_ip(request))
    except (oidc.SsoError, SsoRefused) as exc:
        sso_refusal_record(
            **audit, code=exc.code, message=exc.message, client_ip=client_ip(request)
        )
        return _refused(request, exc.message, _status(exc.code))
    login(request, user, backend=BACKEND_PATH)
    return redirect("home")


# Settings > Single sign-on


class IdentityProviderForm(forms.Form):
    enabled = forms.BooleanField(required=False, initial=True, label="Single sign-on is on")
    issuer = forms.URLField(max_length=500, label="Issuer URL", assume_scheme="https")
    client_id = forms.CharField(max_length=255, label="Client ID")
    client_secret = forms.CharField(
        max_length=500,
        required=False,
        label="Client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Never shown again once saved; leave empty to keep the saved one.",
    )
    groups_claim = forms.CharField(max_length=100, initial="groups", label="Groups claim")
    domains = forms.CharField(
        label="E-mail domains",
        help_text="One per line: addresses there sign in through this provider.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    role_mapping = forms.CharField(
        required=False,
        label="Groups to roles",
        help_text="One per line: provider group = role.",
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_domains(self):
        return [d for d in self.cleaned_data["domains"].replace(",", "\n").split() if d]

    def clean_role_mapping(self):
        mapping = {}
        for line in self.cleaned_data["role_mapping"].splitlines():
            if not line.strip():
                continue
            group, sep, role = line.partition("=")
            if not sep:
                raise forms.ValidationError(f"Write “group = role”, not {line.strip()[:80]!r}.")
            mapping[group.strip()] = role.strip()
        return mapping


def _initial(provider) -> dict:
    if provider is None:
        return {}
    return {
        "enabled": provider.enabled,
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "groups_claim": provider.groups_claim,
        "domains": "\n".join(provider.domains.values_list("domain", flat=True)),
        "role_mapping": "\n".join(f"{g} = {r}" for g, r in provider.role_mapping.items()),
    }


@login_required
def sso_settings(request):
    user = request.user
    if not can(user, Cap.MANAGE_LOCKBOX_SETTING):
        raise PermissionDenied
    provider = IdentityProvider.objects.filter(tenant_id=user.tenant_id).first()
    form = IdentityProviderForm(
        request.POST if request.method == "POST" else None, initial=_initial(provider)
    )
    if request.method == "POST" and form.is_valid():
        try:
            identity_provider_set(actor=user, client_ip=client_ip(request), **form.cleaned_data)
        except ApplicationError as exc:
            raise_http(exc)
            form_errors(form, exc)
        else:
            messages.success(request, "Your single sign-on settings have been saved.")
            return redirect("sso_settings")
    context = {
        "nav": "settings",
        "form": form,
        "provider": provider,
        "roles": roles_of_kind(user.tenant.kind),
        "callback": request.build_absolute_uri(reverse("sso_callback")),
    }
    return render(
        request, "tenants_app/sso_settings.html", context, status=400 if form.errors else 200
    )
