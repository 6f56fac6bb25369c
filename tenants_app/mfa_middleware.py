"""The web half of step-up MFA: the session remembers when a code was last verified; this puts
that time on the signed-in user, and answers a StepUpRequired with the verification prompt."""

from urllib.parse import urlencode, urlsplit

from django.contrib.auth.middleware import get_user
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme

from lockbox_site.errors import StepUpRequired

from .mfa import VERIFIED_AT

SESSION_KEY = "lockbox_mfa_verified_at"


def session_user(request):
    user = get_user(request)
    if user.is_authenticated:
        raw = request.session.get(SESSION_KEY)
        setattr(user, VERIFIED_AT, parse_datetime(raw) if raw else None)
    return user


def step_up_next(request) -> str:
    """Where to come back to after verifying: the page the refused action was on."""
    back = request.META.get("HTTP_REFERER", "")
    parts = urlsplit(back)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return path or "/"
    return request.get_full_path() if request.method == "GET" else "/"


class StepUpMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Lazy like AuthenticationMiddleware's own: a request that never looks at the user
        # (static files, the JSON key set) costs nothing.
        request.user = SimpleLazyObject(lambda: session_user(request))
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, StepUpRequired) and not request.path.startswith("/api/"):
            query = urlencode({"next": step_up_next(request)})
            return redirect(f"{reverse('mfa_verify')}?{query}")
        return None
