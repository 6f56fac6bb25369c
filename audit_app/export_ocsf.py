"""The SIEM export (SPEC 13): audit records as OCSF 1.5.0 API Activity events, JSON Lines.

Every record becomes one `API Activity` (class 6003): a decision on a request (approve, deny,
revoke, ...) and an operator's action on a Cloud PC alike, with the request id in
`metadata.correlation_uid` so a SIEM joins a request's whole story. What OCSF has no place
for (the record's details, the signed statement, the chain's seq and hashes) stays in
`unmapped`, so nothing the audit log holds is lost on the way.
"""

from collections.abc import Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone

from .export_jsonl import CHUNK_SIZE, CONTENT_TYPE, dumps
from .models import ActorType, Operation

OCSF_VERSION = "1.5.0"
API_ACTIVITY = 6003
APPLICATION_ACTIVITY = 6  # the category
CREATE, READ, UPDATE, DELETE, OTHER = 1, 2, 3, 4, 99
ACTIVITY_NAMES = {CREATE: "Create", READ: "Read", UPDATE: "Update", DELETE: "Delete"}

# Operation -> API Activity's activity_id. A change of a request's state is an Update of it;
# anything not listed is Other (99), named by the operation.
ACTIVITIES = {
    Operation.REQUEST_CREATED: CREATE,
    Operation.WEBHOOK_REGISTERED: CREATE,
    Operation.RETENTION_POLICY_CREATED: CREATE,
    Operation.ROLE_ASSIGNED: CREATE,
    Operation.WEBHOOK_DELETED: DELETE,
    Operation.RETENTION_POLICY_DELETED: DELETE,
    Operation.ROLE_REMOVED: DELETE,
    Operation.RETENTION_APPLIED: DELETE,
    **{
        op: UPDATE
        for op in (
            Operation.REQUEST_INTERNALLY_APPROVED,
            Operation.REQUEST_INTERNALLY_DENIED,
            Operation.REQUEST_APPROVED,
            Operation.REQUEST_AUTO_APPROVED,
            Operation.REQUEST_DENIED,
            Operation.REQUEST_CANCELLED,
            Operation.REQUEST_EXPIRED,
            Operation.ACCESS_REVOKED,
            Operation.ACCESS_EXPIRED,
            Operation.LOCKBOX_SETTING_CHANGED,
            Operation.RETENTION_POLICY_UPDATED,
            Operation.WEBHOOK_UPDATED,
            Operation.WEBHOOK_DISABLED,
            Operation.TENANT_PLAN_CHANGED,
            Operation.USER_DEACTIVATED,
            Operation.USER_REACTIVATED,
            Operation.SIGN_IN_UNLOCKED,
            # SPEC 10: a quorum's approval, a question and its answer, emergency access.
            Operation.REQUEST_APPROVAL_ADDED,
            Operation.INFORMATION_REQUESTED,
            Operation.INFORMATION_PROVIDED,
            Operation.EMERGENCY_ACCESS_GRANTED,
            Operation.EMERGENCY_ACCESS_REVIEWED,
            Operation.EMERGENCY_REVIEW_OVERDUE,
        )
    },
}
# An operator's action on a Cloud PC: looking is a Read, restarting an Update.
OPERATOR_ACTIVITIES = {"view": READ, "diagnostics": READ, "restart": UPDATE}
USER_TYPES = {ActorType.CUSTOMER: 1, ActorType.PROVIDER: 1, ActorType.SYSTEM: 3}  # User, System

FIELDS = (
    "id",
    "created_at",
    "tenant__slug",
    "seq",
    "record_type",
    "operation",
    "actor",
    "actor_type",
    "object_type",
    "object_id",
    "result",
    "client_ip",
    "details",
    "request_id",
    "prev_hash",
    "hash",
)


def _activity(values: dict) -> int:
    if values["operation"] == Operation.OPERATOR_ACTION:
        return OPERATOR_ACTIVITIES.get((values["details"] or {}).get("action"), OTHER)
    return ACTIVITIES.get(values["operation"], OTHER)


def ocsf_event(values: dict) -> dict:
    """One audit record (the values of FIELDS) as an OCSF API Activity event."""
    activity = _activity(values)
    failed = values["result"] != "success"
    details = values["details"] or {}
    event = {
        "class_uid": API_ACTIVITY,
        "class_name": "API Activity",
        "category_uid": APPLICATION_ACTIVITY,
        "category_name": "Application Activity",
        "activity_id": activity,
        "activity_name": ACTIVITY_NAMES.get(activity, values["operation"]),
        "type_uid": API_ACTIVITY * 100 + activity,
        "time": int(values["created_at"].timestamp() * 1000),
        "severity_id": 3 if failed else 1,  # Medium for a refused attempt, else Informational
        "status_id": 2 if failed else 1,
        "message": f"{values['operation']} by {values['actor']}",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": "Lockbox", "vendor_name": "Lockbox"},
            "uid": str(values["id"]),
            "log_name": values["record_type"],
            "tenant_uid": values["tenant__slug"],
            "logged_time": int(values["created_at"].timestamp() * 1000),
        },
        "actor": {
            "user": {
                "name": values["actor"],
                "type_id": USER_TYPES.get(values["actor_type"], 99),
            }
        },
        "api": {
            "operation": values["operation"],
            "service": {"name": values["record_type"]},
        },
        "src_endpoint": {"ip": values["client_ip"]} if values["client_ip"] else {"name": "system"},
        "unmapped": {
            "details": details,
            "seq": values["seq"],
            "prev_hash": values["prev_hash"],
            "hash": values["hash"],
        },
    }
    if values["request_id"] is not None:
        event["metadata"]["correlation_uid"] = str(values["request_id"])
    if failed:
        event["status_detail"] = str(details.get("reason", values["result"]))
    if values["object_type"]:
        event["resources"] = [{"type": values["object_type"], "uid": str(values["object_id"])}]
    return event


def _lines(queryset) -> Iterator[str]:
    batch: list[str] = []
    for values in queryset.values(*FIELDS).iterator(chunk_size=CHUNK_SIZE):
        batch.append(dumps(ocsf_event(values)))
        if len(batch) >= CHUNK_SIZE:
            yield "\n".join(batch) + "\n"
            batch = []
    if batch:
        yield "\n".join(batch) + "\n"


def audit_ocsf_response(queryset, tenant_slug: str) -> StreamingHttpResponse:
    """The records the search's filters match, oldest first, one OCSF event per line."""
    ordered = queryset.order_by("created_at", "id")
    response = StreamingHttpResponse(_lines(ordered), content_type=CONTENT_TYPE)
    name = f"audit-{tenant_slug}-{timezone.now():%Y%m%d-%H%M%S}.ocsf.jsonl"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
