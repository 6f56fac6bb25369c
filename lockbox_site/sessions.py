"""Sessions: a per-tenant idle timeout, and a decision whose session expired on the way that
returns to its request after sign-in, with what was typed kept."""

import time
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

KEPT = "kept_form"
REFRESHED = "idle_refreshed_at"
# What a person typed into a decision's form; never the CSRF token, never a file.
KEPT_FIELDS = ("comment", "question", "answer", "reason", "duration_minutes")
EXPIRED = (
    "Your session had expired, so nothing was done. Sign in again to return to request {pk}; "
    "what you typed is kept."
)


class IdleTimeoutMiddleware:
    """A signed-in user's requests move the session's end to now + the tenant's idle timeout,
    so the session ends after that long without one (Django then signs them out). The end moves
    at most once a minute: a session write on every page would cost a query each time."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The path first: an API request (a token's, mostly) never loads the session's user.
        if request.path.startswith("/api/"):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            tenant = getattr(user, "tenant", None)
            if tenant is not None:
                self._slide(request.session, tenant.idle_timeout_minutes * 60)
        return self.get_response(request)

    @staticmethod
    def _slide(session, seconds: int) -> None:
        now = int(time.time())
        if session.get_expiry_age() == seconds and now - session.get(REFRESHED, 0) < 60:
            return
        session[REFRESHED] = now
        session.set_expiry(seconds)


def login_required_keeping_form(action: str):
    """login_required for a request's decision: a POST that arrives after the session expired
    keeps its typed fields in the (new) session and returns to the request after sign-in."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, pk, *args, **kwargs):
            if request.user.is_authenticated:
                return view(request, pk, *args, **kwargs)
            if request.method == "POST":
                fields = {
                    name: request.POST[name][:4000] for name in KEPT_FIELDS if name in request.POST
                }
                request.session[KEPT] = {"pk": str(pk), "action": action, "fields": fields}
                messages.info(request, EXPIRED.format(pk=pk))
            return redirect_to_login(reverse("requests:detail", args=[pk]))

        return wrapped

    return decorator


def kept_form(request, pk) -> dict:
    """What was typed before the session expired, for this request's forms ({} otherwise)."""
    kept = request.session.get(KEPT)
    if not kept or kept.get("pk") != str(pk):
        return {}
    del request.session[KEPT]
    return {kept["action"]: kept["fields"]}
