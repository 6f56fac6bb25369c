"""Signed decisions (SPEC 11): each customer-side decision carries a JWS over its statement.

The signatures are checked the way a customer would: with nothing but the published JWKS and
`cryptography`'s Ed25519 directly, re-deriving the signed bytes from the statement.
"""

import base64
import json
from datetime import timedelta

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.utils import timezone

from audit_app.models import AuditRecord

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
UNICODE_COMMENT = "Nein — nicht heute ✋ 日本"
UNICODE_SHA256 = "2e7ac95ea1865b2782b75e81e18ab3c3dde9f833467180d29ce1aaff392f8e72"


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_as_outsider(client, token: str) -> tuple[dict, bytes]:
    """Check a JWS with the published keys only; return its header and the signed bytes."""
    keys = client.get("/.well-known/lockbox-keys.json").json()["keys"]
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_b64(header_b64))
    assert header["alg"] == "EdDSA"
    [jwk] = [key for key in keys if key["kid"] == header["kid"]]
    assert (jwk["kty"], jwk["crv"]) == ("OKP", "Ed25519")
    public = Ed25519PublicKey.from_public_bytes(_b64(jwk["x"]))
    public.verify(_b64(signature_b64), f"{header_b64}.{payload_b64}".encode())  # raises if bad
    return header, _b64(payload_b64)


def canonical_bytes(statement: dict) -> bytes:
    return json.dumps(statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _decide(api, world, make_request, kind, comment):
    """Make one decision of `kind` through the API, at a pinned moment; return (request, at)."""
    if kind == "auto_approved":
        # Two Cloud PCs, named in reverse id order, to see them sorted by id in the statement.
        access_request = make_request(world.northwind, pcs=world.northwind_pcs[:2][::-1])
        who, path = world.manager, "approve"
    elif kind == "revoked":
        access_request = make_request(stage="approved", pcs=world.contoso_pcs[:2][::-1])
        who, path = world.approver, "revoke"
    else:
        access_request = make_request(stage="pending_customer", pcs=world.contoso_pcs[:2][::-1])
        who, path = world.approver, "approve" if kind == "approved" else "deny"
    at = (timezone.now() + timedelta(minutes=7)).replace(microsecond=123456)
    with time_machine.travel(at, tick=False):
        response = api(who).post(
            f"/api/v1/requests/{access_request.pk}/{path}/", {"comment": comment}, format="json"
        )
    assert response.status_code == 200, response.content
    access_request.refresh_from_db()
    return access_request, at


OPERATION = {
    "approved": "RequestApproved",
    "denied": "RequestDenied",
    "revoked": "AccessRevoked",
    "auto_approved": "RequestAutoApproved",
}


@pytest.mark.parametrize(
    ("kind", "comment", "digest"),
    [
        ("approved", "", EMPTY_SHA256),
        ("denied", UNICODE_COMMENT, UNICODE_SHA256),
        ("revoked", UNICODE_COMMENT, UNICODE_SHA256),
        # The manager's comment belongs to the internal decision; the automatic one has none.
        ("auto_approved", "fine by me", EMPTY_SHA256),
    ],
)
def test_each_customer_decision_is_signed_over_exactly_what_was_decided(
    world, api, client, make_request, kind, comment, digest
):
    access_request, at = _decide(api, world, make_request, kind, comment)
    decision = access_request.decisions.order_by("-created_at", "-id").first()
    pcs = sorted(access_request.cloud_pcs.all(), key=lambda pc: pc.pk)
    window = None
    if kind != "denied":
        window = {
            "starts_at": access_request.window_starts_at.isoformat(),
            "ends_at": access_request.window_ends_at.isoformat(),
        }
    expected = {
        "type": "lockbox.decision/v1",
        "tenant": access_request.tenant.slug,
        "tenant_id": access_request.tenant_id,
        "request": access_request.pk,
        "ticket": f"TKT-{access_request.ticket_id:06d}",
        "requester": "engineer@provider.example",
        "cloud_pcs": [{"id": pc.pk, "name": pc.name} for pc in pcs],
        "decision": kind,
        "by": "System" if kind == "auto_approved" else "approver@contoso.example",
        "at": at.isoformat(),
        "window": window,
        "comment_sha256": digest,
    }
    assert len(pcs) == 2 and expected["cloud_pcs"][0]["id"] < expected["cloud_pcs"][1]["id"]
    assert decision.created_at == at and expected["at"].endswith(".123456+00:00")
    if kind == "revoked":
        assert window["ends_at"] == at.isoformat()  # the window as the revocation left it
    elif window is not None:
        assert window["starts_at"] == at.isoformat()
    assert decision.statement == expected

    header, signed = verify_as_outsider(client, decision.jws)
    assert signed == canonical_bytes(expected)
    assert header["kid"] == decision.key_id

    record = AuditRecord.objects.get(request_id=access_request.pk, operation=OPERATION[kind])
    assert record.details["statement"] == expected
    assert record.details["jws"] == decision.jws


def test_decisions_inside_the_provider_are_not_signed(world, api, make_request):
    denied = make_request()
    api(world.manager).post(f"/api/v1/requests/{denied.pk}/deny/", {}, format="json")
    cancelled = make_request()
    api(world.engineer).post(f"/api/v1/requests/{cancelled.pk}/cancel/", {}, format="json")
    approved = make_request(stage="pending_customer")
    decisions = [
        *denied.decisions.all(),
        *cancelled.decisions.all(),
        *approved.decisions.all(),
    ]
    assert [(d.stage, d.outcome) for d in decisions] == [
        ("internal", "denied"),
        ("cancellation", "cancelled"),
        ("internal", "approved"),
    ]
    assert all(d.statement == {} and d.jws == "" for d in decisions)
    details = AuditRecord.objects.filter(
        request_id__in=[denied.pk, cancelled.pk, approved.pk]
    ).values_list("details", flat=True)
    assert not any("jws" in d or "statement" in d for d in details)


def test_the_api_request_object_carries_each_decisions_statement_and_jws(world, api, make_request):
    access_request, _ = _decide(api, world, make_request, "approved", "ok")
    response = api(world.admin).get(f"/api/v1/requests/{access_request.pk}/")
    assert response.status_code == 200
    internal, customer = response.json()["decisions"]
    assert (internal["stage"], internal["statement"], internal["jws"]) == ("internal", None, None)
    signed = access_request.decisions.get(stage="customer")
    assert customer["statement"] == signed.statement
    assert customer["jws"] == signed.jws
    assert customer["statement"]["decision"] == "approved"


def test_the_request_page_shows_a_signed_decision_with_its_key(world, client, make_request):
    from audit_app.signing import key_id

    access_request = make_request(stage="approved")
    client.force_login(world.approver)
    page = client.get(f"/requests/{access_request.pk}/").content.decode()
    assert f"Signed (key {key_id()})" in page
    assert page.count("Signed (key") == 1  # the manager's internal decision is not
