"""Small helpers the template views share."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponsePermanentRedirect
from django.templatetags.static import static

from tenants_app.roles import can

from .errors import NotAllowed, NotFound, StepUpRequired


def client_ip(request) -> str | None:
    # REMOTE_ADDR only: behind a proxy listed in LOCKBOX_TRUSTED_PROXIES, TrustedProxyMiddleware
    # has already set it to the real client; a client's own X-Forwarded-For is never read.
    return request.META.get("REMOTE_ADDR") or None


def axes_username(request, credentials) -> str:
    """The user name lockouts count under: any case of a name is the same name."""
    source = credentials if credentials else getattr(request, "POST", {})
    return (source.get("username") or "").strip().lower()


def raise_http(exc) -> None:
    """Turn a 404/403 application error into Django's; other errors are the caller's to show."""
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    if isinstance(exc, StepUpRequired):
        raise exc  # tenants_app.mfa_middleware turns it into the step-up prompt
    if isinstance(exc, NotAllowed):
        raise PermissionDenied(exc.message)


def form_errors(form, exc) -> None:
    """Put a service's per-field errors next to their fields, the rest at the top."""
    placed = False
    for field, errors in exc.extra.items():
        if field in form.fields and isinstance(errors, list):
            for error in errors:
                form.add_error(field, str(error))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says; send them to the real one (looked
    up per request: the static manifest may not exist when the URLs are imported)."""
    return HttpResponsePermanentRedirect(static("lockbox/favicon.svg"))


def requires(*caps, any_of: bool = False):
    """The one capability check of the web layer: signed in (else the sign-in page), then
    holding every capability given (or one of them with any_of=True), else the 403 page."""

    def decorator(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            held = [can(request.user, cap) for cap in caps]
            if not (any(held) if any_of else all(held)):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(checked)

    return decorator
