"""Server errors: a database that is down answers 503 with Retry-After, not a bare 500."""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.http import JsonResponse
from django.shortcuts import render

from access_approval.errors import RpcError, json_error

RETRY_AFTER_SECONDS = "5"
UNAVAILABLE = (OperationalError, InterfaceError)


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
        if request.path.startswith("/v1/"):
            response = json_error(RpcError(503, "UNAVAILABLE", message))
        elif request.path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503)
        else:
            response = render(request, "503.html", {"message": message}, status=503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    if request.path.startswith("/v1/"):
        return json_error(RpcError(500, "INTERNAL", "Server error."))
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return render(request, "500.html", status=500)
