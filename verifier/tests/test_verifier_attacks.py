"""One test per attack of issue 12, each against an export built by the documented rules and
a checkpoint the customer saved before the change; the untouched export passes."""

import copy
import json

import pytest
from chainmaker import Signer, Tenant, rehash, write_json, write_jsonl

CONTENT_FIELDS = (
    "seq",
    "created_at",
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
    "tenant_id",
)


@pytest.fixture
def world(contoso, tmp_path):
    """30 records: two signed decisions, non-ASCII content, records 1-3 pruned (signed); the
    customer saved a checkpoint at seq 25; the export's last line is the checkpoint of 30."""
    contoso.grow(5)
    contoso.decide(request_id=42)  # seq 6
    contoso.append(details={"note": "Zoë — ✓ 東京", "n": 1.5, "flag": True})  # seq 7
    contoso.grow(6)
    contoso.decide(request_id=43, decision="denied", comment="nein, danke")  # seq 14
    contoso.grow(11)
    write_json(tmp_path / "saved-checkpoint.json", contoso.checkpoint())  # seq 25
    contoso.grow(5)
    contoso.prune(1, 3)
    contoso.latest = contoso.checkpoint()  # seq 30
    return contoso


def export(tmp_path, tenant, lines=None, checkpoint="latest", header=None, name="export.jsonl"):
    lines = tenant.chain_lines() if lines is None else lines
    if checkpoint == "latest":
        checkpoint = tenant.latest
    return write_jsonl(tmp_path / name, header or tenant.header(lines), lines, checkpoint)


def by_seq(lines, seq):
    return next(line for line in lines if line.get("seq") == seq)


SAVED = "saved-checkpoint.json"


def test_untouched_export_verifies(world, tmp_path, verify):
    code, line = verify(export(tmp_path, world), tmp_path / SAVED)
    assert (code, line) == (
        0,
        "OK: tenant contoso, records 1-30 (27 present, 3 pruned in 1 signed range), "
        "2 signed decisions, 2 checkpoints verified",
    )


def _changed(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("X" if value[-1:] != "X" else "Y")
    if value is None:
        return "198.51.100.7"
    if isinstance(value, dict):
        return {**value, "action": "delete"}
    raise AssertionError(value)


@pytest.mark.parametrize("field", [*CONTENT_FIELDS, "prev_hash", "hash"])
def test_any_changed_field_of_a_record_is_named(world, tmp_path, verify, field):
    lines = world.chain_lines()
    record = by_seq(lines, 10)
    record[field] = _changed(record[field])
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 10: "), line


def test_a_changed_record_with_the_chain_recomputed_fails_at_the_saved_checkpoint(
    world, tmp_path, verify
):
    # Someone with the database knows the rule and recomputes every hash after the change,
    # and deletes the stored checkpoints: only the customer's copy still tells.
    lines = world.chain_lines()
    by_seq(lines, 10)["actor"] = "someone-else@provider.example"
    rehash(lines)
    code, line = verify(export(tmp_path, world, lines, checkpoint=None), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 25: the record's hash "), line
    assert "does not match the checkpoint of seq 25" in line


def test_a_record_removed_from_the_middle(world, tmp_path, verify):
    lines = [line for line in world.chain_lines() if line.get("seq") != 12]
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 12: records 12-12 missing or moved"), line


def test_the_oldest_records_removed_without_a_signed_range(world, tmp_path, verify):
    lines = [line for line in world.chain_lines() if line["kind"] == "record" and line["seq"] > 5]
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert (code, line) == (
        1,
        "FAIL: seq 1: records 1-5 missing or moved: the file starts at seq 6, and no signed "
        "pruned range covers them (if you exported with start=, verify with --partial)",
    )


def test_the_record_after_a_signed_range_removed(world, tmp_path, verify):
    lines = [line for line in world.chain_lines() if line.get("seq") != 4]
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 4: records 4-4 missing or moved: after seq 3 "), line


def test_a_record_removed_and_the_rest_renumbered_and_recomputed(world, tmp_path, verify):
    lines = [line for line in world.chain_lines() if line.get("seq") != 12]
    rehash(lines, renumber=True)
    code, line = verify(export(tmp_path, world, lines, checkpoint=None), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 25: "), line


def test_a_record_inserted(world, tmp_path, verify):
    lines = world.chain_lines()
    forged = copy.deepcopy(by_seq(lines, 16))
    forged["details"] = {"action": "view", "note": "nothing happened"}
    position = lines.index(by_seq(lines, 16))
    lines.insert(position, forged)
    rehash(lines[: position + 1])  # the forged one links correctly to seq 15
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 16: out of order"), line


def test_a_record_inserted_and_the_rest_renumbered_and_recomputed(world, tmp_path, verify):
    lines = world.chain_lines()
    forged = copy.deepcopy(by_seq(lines, 16))
    forged["operation"] = "LockboxSettingChanged"
    lines.insert(lines.index(by_seq(lines, 16)), forged)
    rehash(lines, renumber=True)
    code, line = verify(export(tmp_path, world, lines, checkpoint=None), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 25: "), line


def test_two_records_swapped(world, tmp_path, verify):
    lines = world.chain_lines()
    a, b = lines.index(by_seq(lines, 8)), lines.index(by_seq(lines, 9))
    lines[a], lines[b] = lines[b], lines[a]
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 8: records 8-8 missing or moved"), line


def test_two_records_swapped_keeping_their_seq_places(world, tmp_path, verify):
    lines = world.chain_lines()
    a, b = by_seq(lines, 8), by_seq(lines, 9)
    for name in ("created_at", "object_id", "client_ip", "details"):
        a[name], b[name] = b[name], a[name]
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 8: content altered"), line


def test_two_records_swapped_and_the_chain_recomputed(world, tmp_path, verify):
    lines = world.chain_lines()
    a, b = lines.index(by_seq(lines, 8)), lines.index(by_seq(lines, 9))
    lines[a], lines[b] = lines[b], lines[a]
    rehash(lines, renumber=True)
    code, line = verify(export(tmp_path, world, lines, checkpoint=None), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 25: "), line


def test_newest_records_removed_and_the_head_rolled_back(world, tmp_path, verify):
    # Records 26-30 deleted, the chain head and the stored checkpoints rolled back with them:
    # what is left is a consistent chain that ends at 25... and the customer's checkpoint of 25
    # matches. A checkpoint saved later (of 30) is what shows the loss.
    later = write_json(tmp_path / "later.json", world.latest)
    lines = [line for line in world.chain_lines() if line.get("seq", 0) <= 27]
    code, line = verify(export(tmp_path, world, lines, checkpoint=None), tmp_path / SAVED, later)
    assert code == 1
    assert line.startswith(
        "FAIL: seq 28: records missing at the end, the chain head rolled back: "
        "the checkpoint of seq 30"
    ), line


def test_newest_records_removed_seen_by_the_exports_own_checkpoint(world, tmp_path, verify):
    lines = [line for line in world.chain_lines() if line.get("seq", 0) <= 27]
    code, line = verify(export(tmp_path, world, lines))
    assert code == 1
    assert line.startswith("FAIL: seq 28: records missing at the end"), line


def test_table_emptied_and_head_reset(world, tmp_path, verify):
    code, line = verify(export(tmp_path, world, [], checkpoint=None), tmp_path / SAVED)
    assert (code, line[:73]) == (
        1,
        "FAIL: seq 1: records missing at the end, the chain head rolled back: the ",
    )
    assert "the file has no records" in line


@pytest.mark.parametrize(("regrown", "bad_seq"), [(20, 21), (40, 25)])
def test_table_emptied_and_regrown_from_seq_1(world, signer, tmp_path, verify, regrown, bad_seq):
    fresh = Tenant(signer, "contoso", 3).grow(regrown)
    fresh.latest = None
    code, line = verify(export(tmp_path, fresh), tmp_path / SAVED)
    assert code == 1
    assert line.startswith(f"FAIL: seq {bad_seq}: "), line


def _forged_range(world, lines, jws):
    last_hash = by_seq(lines, 12)["hash"]
    kept = [line for line in lines if not 10 <= line.get("seq", 0) <= 12]
    forged = {
        "kind": "pruned",
        "first_seq": 10,
        "last_seq": 12,
        "last_hash": last_hash,
        "pruned_at": "2027-06-17T09:00:00+00:00",
        "jws": jws,
    }
    kept.insert(kept.index(by_seq(kept, 13)), forged)
    return kept, forged


def test_forged_pruned_range_unsigned(world, tmp_path, verify):
    lines, _ = _forged_range(world, world.chain_lines(), "")
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith("FAIL: seq 10: pruned range 10-12 is not signed"), line


def test_forged_pruned_range_with_another_ranges_signature(world, tmp_path, verify):
    lines, _ = _forged_range(world, world.chain_lines(), world.pruned[0]["jws"])
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith(
        "FAIL: seq 10: pruned range 10-12 does not match its signed statement: first_seq"
    ), line


def test_forged_pruned_range_signed_by_another_key(world, tmp_path, verify):
    lines, forged = _forged_range(world, world.chain_lines(), "")
    statement = {"type": "lockbox.pruned/v1", "tenant": "contoso", "tenant_id": 3}
    statement.update({k: forged[k] for k in ("first_seq", "last_seq", "last_hash", "pruned_at")})
    forged["jws"] = Signer().sign(statement)
    code, line = verify(export(tmp_path, world, lines), tmp_path / SAVED)
    assert code == 1
    assert line.startswith(
        "FAIL: seq 10: pruned range 10-12: signed by a key that is not in the keys file"
    ), line


def test_decision_signed_by_another_key(contoso, tmp_path, verify):
    contoso.grow(3)
    contoso.decide(signer=Signer())  # seq 4
    contoso.grow(2)
    saved = write_json(tmp_path / "cp.json", contoso.checkpoint())
    contoso.latest = None
    code, line = verify(export(tmp_path, contoso), saved)
    assert code == 1
    assert line.startswith(
        "FAIL: seq 4: decision signature: signed by a key that is not in the keys file"
    ), line


def test_decision_statement_changed_after_signing(world, tmp_path, verify):
    lines = world.chain_lines()
    by_seq(lines, 14)["details"]["statement"]["decision"] = "approved"
    rehash(lines)
    code, line = verify(export(tmp_path, world, lines, checkpoint=None))
    assert (code, line) == (1, "FAIL: seq 14: the decision's statement is not what was signed")


def test_checkpoint_from_another_tenant(world, signer, tmp_path, verify):
    fabrikam = Tenant(signer, "fabrikam", 4).grow(30)
    theirs = write_json(tmp_path / "fabrikam-cp.json", fabrikam.checkpoint(seq=20))
    code, line = verify(export(tmp_path, world), theirs)
    assert code == 1
    assert line.startswith(
        "FAIL: seq 20: the checkpoint of seq 20 issued at 2026-11-29T09:05:20+00:00 "
        f"({theirs}) is for tenant fabrikam (id 4), not this file's tenant contoso (id 3)"
    ), line


def test_checkpoint_forged_with_another_key(world, tmp_path, verify):
    forged = world.checkpoint(seq=25, signer=Signer())
    code, line = verify(export(tmp_path, world), write_json(tmp_path / "f.json", forged))
    assert code == 1
    assert line.startswith("FAIL: seq 25: checkpoint ("), line
    assert "signed by a key that is not in the keys file" in line


def test_checkpoint_whose_readable_fields_lie_is_judged_by_its_signature(world, tmp_path, verify):
    saved = json.loads((tmp_path / SAVED).read_text())
    saved["seq"], saved["hash"] = 29, "f" * 64
    code, line = verify(export(tmp_path, world), write_json(tmp_path / "lie.json", saved))
    assert code == 0, line
