"""The check of a signed decision in the chain (SPEC 11), for `verify_audit`.

Someone with the database can rewrite a record and re-hash the chain after it; the chain then
checks out, but they cannot sign. So every record that carries a decision's JWS must carry a
JWS made by one of our keys, over exactly the statement beside it, about this very record.
"""

from .signing import SignatureInvalid, verify


def decision_problem(tenant_id: int, record: dict) -> str | None:
    """What is wrong with the record's signed decision, or None (also for unsigned records)."""
    details = record["details"]
    if not isinstance(details, dict) or "jws" not in details:
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
