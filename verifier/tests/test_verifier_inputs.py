"""What the verifier reads: the server's exact hash and JWS bytes, partial runs, evidence
bundles, the forms a saved checkpoint takes, and inputs it cannot read (exit 2)."""

import json

import pytest
from chainmaker import Signer, Tenant, write_json, write_jsonl
from lockbox_verify import chain, jws
from lockbox_verify.cli import main


def test_hash_rule_matches_the_servers_known_answers():
    # Computed once with the server's own audit_app.chain.record_hash (datetime created_at,
    # default=str, ensure_ascii): a non-ASCII, nested, float and bool record, and an empty one.
    content = {
        "seq": 7,
        "created_at": "2026-11-29T09:00:00.123456+00:00",
        "record_type": "Windows365CustomerLockbox",
        "operation": "RequestApproved",
        "actor": "approver@contoso.example",
        "actor_type": "customer",
        "object_type": "AccessRequest",
        "object_id": "42",
        "result": "success",
        "client_ip": "203.0.113.9",
        "details": {
            "note": "Zoë — ✓ 東京",
            "n": 1.5,
            "flag": True,
            "nested": {"b": [1, None], "a": "x"},
        },
        "request_id": 42,
        "tenant_id": 3,
    }
    assert (
        chain.record_hash("ab" * 32, content)
        == "9c8a0be2a6184a96ed7a611ec9f154267ecff9d4320f88c72bfab4a567102445"
    )
    empty = {
        **content,
        "seq": 8,
        "created_at": "2026-11-29T09:00:01+00:00",
        "client_ip": None,
        "request_id": None,
        "details": {},
    }
    assert (
        chain.record_hash("0" * 64, empty)
        == "6c199eb7adffa6e87c6c490304a0f1a1f7ab850523a32332fa99101e2e572de5"
    )


# Made once with joserfc exactly as audit_app/signing.py signs (key seed bytes 0..31).
SERVER_JWKS = {
    "keys": [
        {
            "crv": "Ed25519",
            "x": "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
            "kty": "OKP",
            "kid": "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y",
            "use": "sig",
            "alg": "EdDSA",
        }
    ]
}
SERVER_TOKEN = (
    "eyJhbGciOiJFZERTQSIsImtpZCI6IjFJRzJ0TUg3SjJ3Ykpabk9mOExKelFpdEtmN0xNdm9BRWxzdURNVk01NFki"
    "LCJ0eXAiOiJKV1QifQ.eyJhdCI6IjIwMjYtMTEtMjlUMDk6MDA6MDAuMTIzNDU2KzAwOjAwIiwiYnkiOiJhcHBy"
    "b3ZlckBjb250b3NvLmV4YW1wbGUiLCJjbG91ZF9wY3MiOlt7ImlkIjo3LCJuYW1lIjoiQ1BDLcOFU0EtMDEifV0s"
    "ImNvbW1lbnRfc2hhMjU2IjoiZTNiMGM0NDI5OGZjMWMxNDlhZmJmNGM4OTk2ZmI5MjQyN2FlNDFlNDY0OWI5MzRj"
    "YTQ5NTk5MWI3ODUyYjg1NSIsImRlY2lzaW9uIjoiYXBwcm92ZWQiLCJyZXF1ZXN0Ijo0MiwicmVxdWVzdGVyIjoi"
    "ZW5naW5lZXJAcHJvdmlkZXIuZXhhbXBsZSIsInRlbmFudCI6ImNvbnRvc28iLCJ0ZW5hbnRfaWQiOjMsInRpY2tl"
    "dCI6IlRLVC0wMDAxMjMiLCJ0eXBlIjoibG9ja2JveC5kZWNpc2lvbi92MSIsIndpbmRvdyI6bnVsbH0._EvniVjt"
    "GlXEMOVqAaGw9dHw9BKxs4sLZa_Lb89rIxmYYi0Tc3wVnlouZRzG-q3B3hSPzf8f-nBB3mCJ21--Bg"
)


def test_a_token_signed_the_servers_way_verifies_and_its_payload_is_canonical_utf8():
    keys = jws.load_jwks(SERVER_JWKS)
    payload = jws.verify(SERVER_TOKEN, keys)
    assert payload["cloud_pcs"] == [{"id": 7, "name": "CPC-ÅSA-01"}]
    assert jws.same_statement(payload, {**payload})
    assert not jws.same_statement(payload, {**payload, "request": 42.0})
    tampered = SERVER_TOKEN[:-3] + ("A" if SERVER_TOKEN[-3] != "A" else "B") + SERVER_TOKEN[-2:]
    with pytest.raises(jws.SignatureInvalid, match="does not verify"):
        jws.verify(tampered, keys)


def test_kid_is_the_rfc7638_thumbprint_even_when_the_jwks_omits_it():
    bare = {"keys": [{k: v for k, v in SERVER_JWKS["keys"][0].items() if k != "kid"}]}
    assert jws.verify(SERVER_TOKEN, jws.load_jwks(bare))["tenant"] == "contoso"


@pytest.fixture
def small(contoso, tmp_path):
    contoso.grow(4)
    contoso.decide(request_id=42)  # 5
    contoso.grow(10)  # 6-15
    contoso.prune(1, 2)
    contoso.prune(8, 9)
    return contoso


def lines_of(tenant, start=0):
    return [line for line in tenant.chain_lines() if line.get("seq", line.get("last_seq")) >= start]


def test_start_filtered_export_needs_partial(small, tmp_path, verify):
    lines = lines_of(small, 6)  # pruned 1-2 lies before the run, records 6.. (8-9 pruned)
    lines.insert(0, small.pruned[0])
    path = write_jsonl(tmp_path / "run.jsonl", small.header(lines), lines)
    cp = write_json(tmp_path / "cp.json", small.checkpoint(seq=12))
    code, line = verify(path, cp)
    assert code == 1
    assert line.startswith("FAIL: seq 3: records 3-5 missing or moved"), line
    assert line.endswith("(if you exported with start=, verify with --partial)")
    code, line = verify(path, cp, extra=["--partial"])
    assert (code, line) == (
        0,
        "OK: tenant contoso, records 6-15 (8 present, 2 pruned in 1 signed range), "
        "0 signed decisions, 1 checkpoint verified",
    )


def test_partial_run_still_checks_its_first_link_after_an_adjacent_range(small, tmp_path, verify):
    lines = lines_of(small, 8)  # starts with the pruned range 8-9, then record 10
    lines[1]["prev_hash"] = "1" * 64
    path = write_jsonl(tmp_path / "run.jsonl", small.header(lines), lines)
    code, line = verify(path, extra=["--partial"])
    assert code == 1
    assert line.startswith("FAIL: seq 10: link to the previous record broken"), line


def test_checkpoint_before_a_partial_run_is_reported_as_outside(small, tmp_path, verify):
    lines = lines_of(small, 10)
    path = write_jsonl(tmp_path / "run.jsonl", small.header(lines), lines)
    early = write_json(tmp_path / "early.json", small.checkpoint(seq=5))
    code, line = verify(path, early, extra=["--partial"])
    assert (code, line) == (
        0,
        "OK: tenant contoso, records 10-15 (6 present, none pruned), "
        "0 signed decisions, 0 checkpoints verified; 1 outside this run (signature checked only)",
    )


def test_checkpoint_inside_a_signed_pruned_range_or_at_its_end(contoso, tmp_path, verify):
    contoso.grow(12)
    inside = contoso.checkpoint(seq=3)
    at_end = contoso.checkpoint(seq=5)
    contoso.prune(1, 5)
    saved = write_json(tmp_path / "cps.json", [inside, at_end])
    path = write_jsonl(tmp_path / "e.jsonl", contoso.header(), contoso.chain_lines())
    code, line = verify(path, saved)
    assert (code, line) == (
        0,
        "OK: tenant contoso, records 1-12 (7 present, 5 pruned in 1 signed range), "
        "0 signed decisions, 1 checkpoint verified; 1 outside this run (signature checked only)",
    )


@pytest.mark.parametrize("form", ["object", "list", "jsonl", "cloudevent", "event"])
def test_saved_checkpoint_forms(small, tmp_path, verify, form):
    first, second = small.checkpoint(seq=12), small.checkpoint(seq=15)
    cloudevent = {"specversion": "1.0", "type": "com.lockbox.audit.checkpoint", "data": first}
    event = {"event": "audit.checkpoint", "checkpoint": first}
    text = {
        "object": json.dumps(first),
        "list": json.dumps([first, second]),
        "jsonl": json.dumps(first) + "\n\n" + json.dumps(second) + "\n",
        "cloudevent": json.dumps(cloudevent),
        "event": json.dumps(event),
    }[form]
    saved = tmp_path / "saved"
    saved.write_text(text)
    path = write_jsonl(tmp_path / "e.jsonl", small.header(), small.chain_lines())
    code, line = verify(path, saved)
    verified = "2 checkpoints" if form in ("list", "jsonl") else "1 checkpoint"
    assert (code, line.endswith(f"{verified} verified")) == (0, True), line


def test_unsigned_ranges_only_with_the_flag(contoso, tmp_path, verify):
    contoso.grow(6)
    contoso.prune(1, 3, signed=False)
    path = write_jsonl(tmp_path / "e.jsonl", contoso.header(), contoso.chain_lines())
    assert verify(path)[0] == 1
    code, line = verify(path, extra=["--allow-unsigned-ranges"])
    assert (code, line) == (
        0,
        "OK: tenant contoso, records 1-6 (3 present, 3 pruned in 1 range, 1 unsigned), "
        "0 signed decisions, 0 checkpoints verified",
    )


def test_export_cut_short_of_its_header(small, tmp_path, verify):
    lines = [line for line in small.chain_lines() if line.get("seq", 0) <= 13]
    path = write_jsonl(tmp_path / "cut.jsonl", small.header(small.chain_lines()), lines)
    code, line = verify(path)
    assert code == 1
    assert line.startswith("FAIL: seq 14: the file ends at seq 13 but its header says"), line


def test_empty_chain_without_checkpoints_verifies(contoso, tmp_path, verify):
    path = write_jsonl(tmp_path / "empty.jsonl", contoso.header([]), [])
    assert verify(path) == (
        0,
        "OK: tenant contoso, no records, 0 signed decisions, 0 checkpoints verified",
    )


def _bundle(tenant, request_id=42):
    records = [r for r in tenant.chain_lines() if r["kind"] == "record" and r["seq"] >= 5]
    decision = next(r for r in records if "jws" in r["details"])
    pair = {"statement": decision["details"]["statement"], "jws": decision["details"]["jws"]}
    return {
        "format": "lockbox-evidence/v1",
        "request": {"id": request_id, "status": "approved", "decisions": [pair]},
        "decisions": [pair],
        "records": records,
        "pruned": [p for p in tenant.pruned if p["first_seq"] >= 5],
        "checkpoint": tenant.checkpoint(),
        "keys": tenant.signer.jwks(),
    }


def test_evidence_bundle_verifies(small, tmp_path, verify):
    path = write_json(tmp_path / "evidence.json", _bundle(small))
    assert verify(path) == (
        0,
        "OK: tenant contoso, request 42, records 5-15 (9 present, 2 pruned in 1 signed range), "
        "1 signed decision, 1 checkpoint verified",
    )


def _provider_decision(stage, outcome):
    """A decision as the API's request object lists it when Lockbox does not sign it (the
    provider's own: internal approval or denial, the engineer's cancellation)."""
    return {
        "stage": stage,
        "outcome": outcome,
        "actor": "manager@provider.example",
        "automatic": False,
        "comment": "",
        "created_at": "2026-07-04T09:00:00Z",
        "statement": None,
        "jws": None,
    }


def test_evidence_bundle_whose_request_lists_the_providers_unsigned_decisions(
    small, tmp_path, verify
):
    bundle = _bundle(small)
    pair = bundle["decisions"][0]
    bundle["request"]["decisions"] = [
        _provider_decision("internal", "approved"),
        {**_provider_decision("customer", "approved"), **pair},
        _provider_decision("cancellation", "cancelled"),
    ]
    assert verify(write_json(tmp_path / "evidence.json", bundle)) == (
        0,
        "OK: tenant contoso, request 42, records 5-15 (9 present, 2 pruned in 1 signed range), "
        "1 signed decision, 1 checkpoint verified",
    )


def test_evidence_bundle_with_its_own_checkpoint_also_saved_by_the_customer(
    small, tmp_path, verify
):
    """The customer saved the very checkpoint the bundle carries (the latest one, often)."""
    bundle = _bundle(small)
    saved = write_json(tmp_path / "saved.json", bundle["checkpoint"])
    assert verify(write_json(tmp_path / "evidence.json", bundle), saved) == (
        0,
        "OK: tenant contoso, request 42, records 5-15 (9 present, 2 pruned in 1 signed range), "
        "1 signed decision, 1 checkpoint verified",
    )


@pytest.mark.parametrize("kept", ["statement", "jws"])
def test_evidence_bundle_decision_with_half_a_signature(small, tmp_path, verify, kept):
    bundle = _bundle(small)
    pair = bundle["decisions"][0]
    half = {**_provider_decision("customer", "approved"), kept: pair[kept]}
    bundle["request"]["decisions"] = [half]
    code, line = verify(write_json(tmp_path / "evidence.json", bundle))
    assert code == 1
    assert line.startswith("FAIL: seq ?: decision"), line  # not passed over as unsigned


def test_evidence_bundle_with_a_changed_record(small, tmp_path, verify):
    bundle = _bundle(small)
    bundle["records"][3]["actor"] = "nobody"
    code, line = verify(write_json(tmp_path / "evidence.json", bundle))
    assert code == 1
    assert line.startswith(f"FAIL: seq {bundle['records'][3]['seq']}: content altered"), line


def test_evidence_bundle_decision_of_another_request(small, tmp_path, verify):
    code, line = verify(write_json(tmp_path / "evidence.json", _bundle(small, request_id=99)))
    assert (code, line) == (1, "FAIL: seq ?: the bundle holds no record of request 99")


def test_evidence_bundles_own_keys_are_not_trusted(small, tmp_path, verify):
    # A bundle re-signed by someone else carries their keys; only --keys counts.
    impostor = Tenant(Signer(), "contoso", 3)
    impostor.grow(4)
    impostor.decide(request_id=42)
    impostor.grow(10)
    code, line = verify(write_json(tmp_path / "evidence.json", _bundle(impostor)))
    assert code == 1
    assert "signed by a key that is not in the keys file" in line


def test_usage_errors_exit_2(small, tmp_path, verify, keys_file):
    good = write_jsonl(tmp_path / "e.jsonl", small.header(), small.chain_lines())
    assert verify(tmp_path / "missing.jsonl")[0] == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text(good.read_text()[:-40] + "\n")
    code, line = verify(broken)
    assert code == 2
    assert line.endswith("broken.jsonl line 14 is not JSON")  # the header is line 1
    not_ours = write_json(tmp_path / "other.json", {"hello": "world"})
    assert verify(not_ours)[0] == 2
    no_keys = write_json(tmp_path / "nokeys.json", {"keys": []})
    code, line = verify(good, keys=str(no_keys))
    assert (code, line) == (
        2,
        f"lockbox-verify: error: {no_keys}: no Ed25519 keys in the keys file",
    )
    private = write_json(
        tmp_path / "private.json", {"keys": [{**SERVER_JWKS["keys"][0], "d": "secret"}]}
    )
    assert verify(good, keys=str(private))[0] == 2
    bad_cp = write_json(tmp_path / "cp.json", {"seq": 3})
    assert verify(good, bad_cp)[0] == 2
    with pytest.raises(SystemExit) as exited:
        main([str(good)])  # no --keys
    assert exited.value.code == 2
