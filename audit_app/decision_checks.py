"""The check of a signed decision in the chain (SPEC 11), for `verify_audit`.

Someone with the database can rewrite a record and re-hash the chain after it; the chain then
checks out, but they cannot sign. So every record that carries a decision's JWS must carry a
JWS made by one of our keys, over exactly the statement beside it, about this very record.
"""

from .models import Operation
from .signing import SignatureInvalid, verify

# Every customer-side decision is signed (SPEC 11): such a record without a signature was
# rewritten (a denial turned into an approval, say), unless it predates signing.
DECISION_OPERATIONS = frozenset(
    {
        Operation.REQUEST_APPROVED,
        Operation.REQUEST_DENIED,
        Operation.ACCESS_REVOKED,
        Operation.REQUEST_AUTO_APPROVED,
        # SPEC 10's decisions were signed from the start: there is no unsigned past to allow.
        Operation.REQUEST_APPROVAL_ADDED,
        Operation.EMERGENCY_ACCESS_GRANTED,
        Operation.EMERGENCY_ACCESS_REVIEWED,
    }
)


def decision_problem(tenant_id: int, record: dict, *, allow_unsigned: bool = False) -> str | None:
    """What is wrong with the record's signed decision, or None."""
    details = record["details"]
    if not isinstance(details, dict) or "jws" not in details:
        if record["operation"] in DECISION_OPERATIONS and not allow_unsigned:
            return f"a {record['operation']} record without a signature"
        return None
    try:
        signed = verify(details["jws"])
    except SignatureInvalid:
        return "decision signature invalid"
    if not isinstance(signed, dict) or signed != details.get("statement"):
        return "decision signature invalid"
    # A genuine statement moved in from another tenant's or another request's record.
    if signed.get("tenant_id") != tenant_id or signed.get("request") != record["request_id"]:
        return "decision statement names another tenant or request"
    return None
