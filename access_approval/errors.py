"""google.rpc.Status error bodies (INTEROP-GOOGLE 10).

Google's REST client picks the exception class from the HTTP status alone, so a wrong state is
HTTP 400 FAILED_PRECONDITION here (409 on /api/v1/ would make the client raise Conflict), and the
gRPC name travels in `error.status` with an ErrorInfo whose reason callers read as `exc.reason`.
"""

from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from lockbox_site.errors import (
    ApplicationError,
    InvalidInput,
    InvalidState,
    NotAllowed,
    NotFound,
    StepUpRequired,
)

DOMAIN = "lockbox"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
REALM = 'Bearer realm="lockbox"'


class RpcError(Exception):
    """An answer of this surface that is not a success."""

    def __init__(self, http: int, status: str, message: str, reason: str = "", metadata=None):
        super().__init__(message)
        self.http, self.status, self.message = http, status, message
        self.reason, self.metadata = reason, metadata or {}


def invalid(message: str, reason: str) -> RpcError:
    return RpcError(400, "INVALID_ARGUMENT", message, reason)


def not_found(message: str = "Not found.") -> RpcError:
    return RpcError(404, "NOT_FOUND", message, "NOT_FOUND")


def status_body(error: RpcError) -> dict:
    body = {"code": error.http, "message": error.message, "status": error.status}
    if error.reason:
        metadata = {key: str(value) for key, value in error.metadata.items()}
        body["details"] = [
            {"@type": ERROR_INFO, "reason": error.reason, "domain": DOMAIN, "metadata": metadata}
        ]
    return {"error": body}


def json_error(error: RpcError) -> JsonResponse:
    """For code outside DRF (the server-error handler, the catch-all route)."""
    return JsonResponse(status_body(error), status=error.http)


def _from_application(exc: ApplicationError, context) -> RpcError:
    if isinstance(exc, InvalidState):
        view = context.get("view")
        reason = getattr(view, "state_reason", "") or "FAILED_PRECONDITION"
        return RpcError(400, "FAILED_PRECONDITION", exc.message, reason, exc.extra)
    if isinstance(exc, StepUpRequired):  # the tenant wants a token obtained with `otp`
        return RpcError(403, "PERMISSION_DENIED", exc.message, "MFA_REQUIRED")
    if isinstance(exc, NotAllowed):
        return RpcError(403, "PERMISSION_DENIED", exc.message, "ROLE_REQUIRED")
    if isinstance(exc, NotFound):
        return not_found(exc.message)
    if isinstance(exc, InvalidInput):
        return RpcError(400, "INVALID_ARGUMENT", exc.message, "INVALID_ARGUMENT")
    return RpcError(exc.status_code, "UNKNOWN", exc.message)


def _from_drf(exc: exceptions.APIException) -> RpcError:
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        reason = (
            "TOKEN_MISSING" if isinstance(exc, exceptions.NotAuthenticated) else "TOKEN_INVALID"
        )
        return RpcError(401, "UNAUTHENTICATED", message, reason)
    if isinstance(exc, exceptions.PermissionDenied):
        return RpcError(403, "PERMISSION_DENIED", message, "ROLE_REQUIRED")
    if isinstance(exc, exceptions.NotFound | exceptions.MethodNotAllowed):
        return not_found("No such resource or method.")
    if isinstance(exc, exceptions.Throttled):
        return RpcError(429, "RESOURCE_EXHAUSTED", message, "RATE_LIMITED")
    if exc.status_code == 413:
        return RpcError(400, "INVALID_ARGUMENT", message, "REQUEST_TOO_LARGE")
    if 400 <= exc.status_code < 500:  # ParseError, ValidationError, UnsupportedMediaType
        return RpcError(400, "INVALID_ARGUMENT", message, "INVALID_ARGUMENT")
    return RpcError(500, "INTERNAL", "Server error.")


def exception_handler(exc, context):
    """The views' exception handler: every error as google.rpc.Status; None lets Django's
    handler500 answer (a database that is down is a 503 UNAVAILABLE there)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, RpcError):
        error = exc
    elif isinstance(exc, ApplicationError):
        error = _from_application(exc, context)
    elif isinstance(exc, exceptions.APIException):
        error = _from_drf(exc)
    else:
        return None
    response = Response(status_body(error), status=error.http)
    if error.http == 401:
        response["WWW-Authenticate"] = REALM
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait))
    return response
