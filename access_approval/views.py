"""The RPCs of Access Approval v1 (INTEROP-GOOGLE 5). Each checks, in the contract's order,
who calls (401, then 403 for the provider), the parent (404), the capability (403), the
request (404) and the arguments (400), then calls the same service as /api/v1/."""

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import prefetch_related_objects
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from lockbox_site.parsers import JSONParser
from lockbox_site.renderers import FastJSONRenderer
from lockbox_site.web import client_ip
from requests_app import services
from requests_app.models import AccessRequest
from requests_app.selectors import access_requests_for_user
from tenants_app.roles import Cap, can, is_provider

from . import pages
from .auth import BearerAuthentication
from .errors import RpcError, exception_handler, invalid, json_error, not_found
from .resources import approval_request_json
from .states import FILTERS, filter_q

CHANNEL = "access-approval-v1"
_FRACTION = re.compile(r"(\.\d{6})\d+")


@extend_schema(exclude=True)  # /api/v1/schema/ describes /api/v1/ alone
class AccessApprovalView(APIView):
    authentication_classes = [BearerAuthentication]
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]
    renderer_classes = [FastJSONRenderer]
    throttle_classes = []
    state_reason = ""  # the ErrorInfo reason of a FAILED_PRECONDITION

    def get_exception_handler(self):
        return exception_handler

    def enums_int(self) -> bool:
        return "enum-encoding=int" in self.request.query_params.get("$alt", "")

    def parent(self, kind: str, slug: str):
        """(tenant, the parent as named): the caller's own customer tenant, or 404."""
        user = self.request.user
        if is_provider(user):
            raise RpcError(
                403, "PERMISSION_DENIED", "This API is for customer tenants.", "PROVIDER_USER"
            )
        tenant = user.tenant
        if kind == "folders" or slug != tenant.slug or not tenant.is_customer:
            raise not_found("No such parent.")
        return tenant, f"{kind}/{slug}"

    def require(self, cap: Cap) -> None:
        if not can(self.request.user, cap):
            raise RpcError(
                403, "PERMISSION_DENIED", "Your role does not allow this.", "ROLE_REQUIRED"
            )

    def visible(self):
        """The requests this surface shows: those that reached the customer (INTEROP 3)."""
        return access_requests_for_user(self.request.user).filter(reached_customer_at__isnull=False)

    def request_id(self, rid: str) -> int:
        if not rid.isdigit() or not rid.isascii() or int(rid) <= 0:
            raise not_found("No such approval request.")
        return int(rid)

    def respond(self, access_request: AccessRequest, prefix: str) -> Response:
        body = approval_request_json(
            access_request, prefix, timezone.now(), enums_int=self.enums_int()
        )
        return Response(body)


class ApprovalRequestListView(AccessApprovalView):
    def get(self, request, kind, tenant):
        _, prefix = self.parent(kind, tenant)
        self.require(Cap.VIEW_REQUESTS)
        filter_name = request.query_params.get("filter", "").strip().upper()
        if filter_name not in FILTERS:
            choices = ", ".join(name for name in FILTERS if name)
            raise invalid(f"filter must be one of {choices}.", "INVALID_FILTER")
        size = pages.page_size(request.query_params.get("pageSize"))
        now = timezone.now()
        queryset = self.visible().filter(filter_q(FILTERS[filter_name], now))
        token = request.query_params.get("pageToken", "")
        if token:
            queryset = queryset.filter(pages.after(token, parent=tenant, filter_name=filter_name))
        rows = list(queryset.order_by("-created_at", "-id")[: size + 1])
        page, more = rows[:size], len(rows) > size
        enums_int = self.enums_int()
        body = {
            "approvalRequests": [
                approval_request_json(row, prefix, now, enums_int=enums_int) for row in page
            ]
        }
        if more:
            body["nextPageToken"] = pages.encode(
                parent=tenant, filter_name=filter_name, last=page[-1]
            )
        return Response(body)


class ApprovalRequestView(AccessApprovalView):
    def get(self, request, kind, tenant, rid):
        _, prefix = self.parent(kind, tenant)
        self.require(Cap.VIEW_REQUESTS)
        try:
            access_request = self.visible().get(pk=self.request_id(rid))
        except AccessRequest.DoesNotExist:
            raise not_found("No such approval request.") from None
        return self.respond(access_request, prefix)


def parse_expire_time(value) -> datetime:
    bad = invalid("expireTime must be an RFC 3339 time with a zone.", "INVALID_EXPIRE_TIME")
    if not isinstance(value, str):
        raise bad
    try:  # Python keeps microseconds; Google's Timestamp may carry nanoseconds
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        raise bad from None
    if moment.tzinfo is None:
        raise bad
    return moment


class ApprovalRequestActionView(AccessApprovalView):
    """Approve, Dismiss and Invalidate: one service each, the /api/v1/ one."""

    ACTIONS = {
        "approve": (services.access_request_approve, "REQUEST_NOT_PENDING"),
        "dismiss": (services.access_request_deny, "REQUEST_NOT_PENDING"),
        "invalidate": (services.access_request_revoke, "APPROVAL_NOT_ACTIVE"),
    }

    def post(self, request, kind, tenant, rid, action):
        _, prefix = self.parent(kind, tenant)
        self.require(Cap.DECIDE_REQUESTS)
        pk = self.request_id(rid)
        if not self.visible().filter(pk=pk).exists():
            raise not_found("No such approval request.")
        body = request.data if isinstance(request.data, dict) else {}
        service, self.state_reason = self.ACTIONS[action]
        kwargs = {}
        if action == "approve" and body.get("expireTime") not in (None, ""):
            expire_time = parse_expire_time(body["expireTime"])
            kwargs["duration_minutes"] = self._minutes_until(pk, expire_time)
        access_request = service(
            actor=request.user,
            access_request_id=pk,
            comment="",
            client_ip=client_ip(request),
            channel=CHANNEL,
            **kwargs,
        )
        prefetch_related_objects([access_request], "cloud_pcs", "decisions")
        return self.respond(access_request, prefix)

    def _minutes_until(self, pk: int, expire_time: datetime) -> int:
        """expireTime as SPEC 10's shorter window, in whole minutes from when the window opens
        (now, or a scheduled start): the window ends at most a minute before expireTime, never
        after it. It must be after now and at most the requested duration away."""
        duration, starts_at = self.visible().values_list("duration_minutes", "starts_at").get(pk=pk)
        start = max(timezone.now(), starts_at or timezone.now())
        if not start < expire_time <= start + timedelta(minutes=duration):
            raise invalid(
                "expireTime must be after the window opens and at most the requested duration "
                "after it.",
                "INVALID_EXPIRE_TIME",
            )
        minutes = int((expire_time - start).total_seconds() // 60)
        if minutes < settings.LOCKBOX_MIN_ACCESS_MINUTES:
            raise invalid(
                f"expireTime must leave at least {settings.LOCKBOX_MIN_ACCESS_MINUTES} minutes "
                "of access.",
                "INVALID_EXPIRE_TIME",
            )
        return minutes


class UnimplementedView(AccessApprovalView):
    """DeleteAccessApprovalSettings and GetAccessApprovalServiceAccount: after the caller and
    the parent are checked, 501 (Lockbox has no customer keys and turns off by an Update)."""

    def _unimplemented(self, kind, tenant):
        self.parent(kind, tenant)
        raise RpcError(501, "UNIMPLEMENTED", "Lockbox does not offer this method.", "UNIMPLEMENTED")

    def get(self, request, kind, tenant):
        return self._unimplemented(kind, tenant)


def not_found_view(request, *args, **kwargs):
    """Any other path or method under /v1/: JSON, not Django's HTML 404."""
    return json_error(not_found("No such resource or method."))
