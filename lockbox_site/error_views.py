"""The product's own error pages (400, 403, 404, 405, 409, 500, 503) and the handlers that show
them; a database that is down answers 503 with Retry-After, not a bare 500."""

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from access_approval.errors import RpcError, json_error

RETRY_AFTER_SECONDS = "5"
UNAVAILABLE = (OperationalError, InterfaceError)
logger = logging.getLogger(__name__)

# Title and what to do next, per status; the reason itself comes from the error raised.
PAGES = {
    400: ("Something in the request was not right", "Check what you entered and try again."),
    403: (
        "You don't have access to this",
        "If you need it, ask your Global Administrator, or whoever approves access requests.",
    ),
    404: (
        "We couldn't find that page",
        "It may never have existed, or it belongs to another organisation.",
    ),
    405: (
        "This page can't be opened that way",
        "This address only accepts a form's button; go back and use the button on the page.",
    ),
    409: (
        "This changed in the meantime",
        "Someone or something else acted first. Open the item again to see where it stands.",
    ),
    500: ("Something went wrong", "The error has been logged. Try again, or contact support."),
}
DEFAULT_REASONS = {
    400: "The request could not be understood.",
    403: "You don't have permission to do this.",
    404: "There is nothing at this address.",
    405: "The method is not allowed here.",
    409: "The item is no longer in a state that allows this.",
    500: "An unexpected error stopped this page.",
}


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def is_rpc(request) -> bool:
    """The Google Access Approval-compatible surface: its errors are google.rpc.Status JSON."""
    return request.path.startswith("/v1/")


def _reason(exception, status: int) -> str:
    # Django's own 404 (no URL matched) carries a dict, not a sentence a user should read.
    message = exception.args[0] if exception is not None and exception.args else ""
    return message if isinstance(message, str) and message else DEFAULT_REASONS[status]


def error_page(request, status: int, reason: str = "", **extra):
    title, hint = PAGES[status]
    referer = request.META.get("HTTP_REFERER", "")
    # "Back" only to a page of this site: a link elsewhere would be the referrer's to choose.
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else ""
    context = {
        "back": back,
        "status": status,
        "title": title,
        "reason": reason or DEFAULT_REASONS[status],
        "hint": hint,
        **extra,
    }
    return render(request, "error.html", context, status=status)


def bad_request(request, exception=None):
    if is_rpc(request):
        return json_error(RpcError(400, "INVALID_ARGUMENT", _reason(exception, 400)))
    if is_api(request):
        return JsonResponse({"detail": _reason(exception, 400)}, status=400)
    return error_page(request, 400, _reason(exception, 400))


def permission_denied(request, exception=None):
    if is_rpc(request):
        return json_error(RpcError(403, "PERMISSION_DENIED", _reason(exception, 403)))
    if is_api(request):
        return JsonResponse({"detail": _reason(exception, 403)}, status=403)
    return error_page(request, 403, _reason(exception, 403))


def page_not_found(request, exception=None):
    if is_rpc(request):
        return json_error(RpcError(404, "NOT_FOUND", "Not found."))
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return error_page(request, 404, _reason(exception, 404))


def csrf_failure(request, reason=""):
    """An expired or missing form token (a page left open across a sign-out, say)."""
    return error_page(
        request,
        403,
        "The form had expired. Reload the page and try again.",
    )


def _database_down(exc) -> bool:
    # psycopg's "connection refused / terminated" and SQLite's "unable to open" are
    # OperationalError or InterfaceError; a bad query (ProgrammingError, DataError) is a real 500.
    return isinstance(exc, UNAVAILABLE) or (
        isinstance(exc, DatabaseError) and isinstance(exc.__cause__, UNAVAILABLE)
    )


def server_error(request):
    exc = sys.exc_info()[1]
    if exc is not None and _database_down(exc):
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()  # reconnect on the next request
        message = "The service is briefly unavailable; try again in a few seconds."
        if is_rpc(request):
            response = json_error(RpcError(503, "UNAVAILABLE", message))
        elif is_api(request):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    if is_rpc(request):
        return json_error(RpcError(500, "INTERNAL", "Server error."))
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    try:
        return error_page(request, 500)
    except Exception:  # the full page needs the user and the database: fall back to plain HTML
        logger.exception("The 500 page could not be rendered")
        return _plain(request, "500.html", 500)


def _plain(request, template, status):
    from django.http import HttpResponse

    return HttpResponse(render_to_string(template), status=status)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' lockout: for how long, in words, and the way back to the sign-in page."""
    from axes.conf import settings as axes_settings
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    minutes = round(cool_off.total_seconds() / 60) if cool_off else None
    if is_api(request):
        return JsonResponse(
            {"detail": f"Too many failed sign-ins; try again in {minutes} minutes."},
            status=axes_settings.AXES_HTTP_RESPONSE_CODE,
        )
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes},
        status=axes_settings.AXES_HTTP_RESPONSE_CODE,
    )
