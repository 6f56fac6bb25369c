"""`My account` > `Security`: add or remove an authenticator, and the step-up prompt that a
guarded change sends the user to (it returns to the page the change was made on)."""

from base64 import b32encode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from lockbox_site.errors import ApplicationError
from lockbox_site.web import client_ip, raise_http

from .mfa_middleware import SESSION_KEY
from .mfa_services import (
    mfa_remove,
    mfa_status,
    mfa_verify,
    totp_enrol_confirm,
    totp_enrol_start,
)


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _enrolment(user) -> dict | None:
    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).first()
    if device is None:
        return None
    uri = device.config_url
    return {
        # An inline SVG: no image request, nothing for the CSP to refuse, and the key never
        # leaves the page.
        "qr_svg": segno.make(uri, error="m").svg_inline(scale=4, title="Authenticator QR code"),
        "secret": b32encode(device.bin_key).decode(),
    }


def _security_page(request, *, form=None, codes=None, status=200):
    context = {
        "nav": "security",
        "status": mfa_status(request.user),
        "enrolment": _enrolment(request.user),
        "form": form or CodeForm(),
        "recovery_codes": codes,
    }
    return render(request, "tenants_app/security.html", context, status=status)


@login_required
def security(request):
    return _security_page(request)


@login_required
@require_POST
def security_enrol(request):
    try:
        totp_enrol_start(user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("account_security")


@login_required
@require_POST
def security_confirm(request):
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _security_page(request, form=form, status=400)
    try:
        codes = totp_enrol_confirm(
            user=request.user, code=form.cleaned_data["code"], client_ip=client_ip(request)
        )
    except ApplicationError as exc:
        form.add_error("code", exc.message)
        return _security_page(request, form=form, status=exc.status_code)
    # Just proved a code: count it as a step-up too.
    request.session[SESSION_KEY] = timezone.now().isoformat()
    messages.success(request, "Your authenticator is added. Keep these recovery codes safe.")
    return _security_page(request, codes=codes)


@login_required
@require_POST
def security_remove(request):
    try:
        mfa_remove(actor=request.user, user_id=request.user.pk, client_ip=client_ip(request))
    except ApplicationError as exc:
        raise_http(exc)
        raise
    request.session.pop(SESSION_KEY, None)
    messages.success(request, "Your authenticator is removed.")
    return redirect("account_security")


@login_required
@require_POST
def user_mfa_remove(request, pk):
    """`Settings` > `Roles`: a Global Administrator removes a user's authenticator."""
    try:
        user = mfa_remove(actor=request.user, user_id=pk, client_ip=client_ip(request))
    except ApplicationError as exc:
        raise_http(exc)
        raise
    messages.success(request, f"The authenticator of {user.username} is removed.")
    return redirect("roles")


def _next(request) -> str:
    back = request.POST.get("next") or request.GET.get("next") or "/"
    # Browsers read "/\\evil.example" as "//evil.example": let Django's check decide.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return back


@login_required
def verify(request):
    """The step-up prompt: a code from the authenticator (or a recovery code), then back."""
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            verified_at = mfa_verify(
                user=request.user, code=form.cleaned_data["code"], client_ip=client_ip(request)
            )
        except ApplicationError as exc:
            form.add_error("code", exc.message)
            status = exc.status_code
        else:
            request.session[SESSION_KEY] = verified_at.isoformat()
            messages.success(request, "Code verified. Now repeat what you were doing.")
            return redirect(_next(request))
    elif request.method == "POST":
        status = 400
    context = {
        "nav": "security",
        "form": form,
        "next": _next(request),
        "enrolled": mfa_status(request.user)["enrolled"],
    }
    return render(request, "tenants_app/mfa_verify.html", context, status=status)
