"""The evidence bundle of one access request (SPEC 11): everything a customer needs to prove,
offline, what happened to it - the request, its signed decisions, the run of the tenant's hash
chain that holds its records, a signed checkpoint that covers that run, and the public keys.

One builder for the API (`GET /api/v1/requests/{id}/evidence/`) and the web page's
`Download evidence`. The document's shape is a contract with the offline verifier.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.http import StreamingHttpResponse

from audit_app.checkpoints import checkpoint_as_json, checkpoint_issue
from audit_app.export_jsonl import (
    CHUNK_SIZE,
    ChainRun,
    dumps,
    latest_checkpoint,
    run_lines,
    run_of_request,
)
from audit_app.models import AuditCheckpoint
from audit_app.signing import jwks
from lockbox_site.errors import NotAllowed
from tenants_app.roles import Cap, can

from .models import AccessRequest
from .serializers import AccessRequestSerializer

FORMAT = "lockbox-evidence/v1"


@dataclass(frozen=True)
class Evidence:
    access_request: AccessRequest
    run: ChainRun
    checkpoint: AuditCheckpoint | None


def evidence_prepare(access_request: AccessRequest) -> Evidence:
    """Fix the run's bounds and make sure a signed checkpoint covers its last record.

    The caller has already checked that the user may see the request. Issuing a checkpoint is
    a state change: it goes through its one service, which locks the chain head and signs it
    (its own short transaction, before any byte is sent).
    """
    tenant = access_request.tenant
    run = run_of_request(tenant, access_request.pk)
    checkpoint = latest_checkpoint(tenant.pk)
    if not run.empty and (checkpoint is None or checkpoint.seq < run.last_seq):
        # The head is at or past the run's end, so the new checkpoint covers it; if another
        # process issued one meanwhile, checkpoint_issue returns None and that one covers it.
        checkpoint = checkpoint_issue(tenant_id=tenant.pk, force=False) or latest_checkpoint(
            tenant.pk
        )
    if checkpoint is not None and not run.empty and checkpoint.seq > run.last_seq:
        # The run goes on to the checkpoint's record: a checkpoint past the file's last record
        # would prove nothing about the records before it.
        run = ChainRun(tenant, run.first_seq, checkpoint.seq)
    return Evidence(access_request, run, checkpoint)


def _decisions(access_request: AccessRequest) -> list[dict]:
    # Only customer-side decisions are signed (the provider's internal ones are not).
    return [
        {"statement": decision.statement, "jws": decision.jws}
        for decision in access_request.decisions.all()
        if decision.jws
    ]


def evidence_chunks(evidence: Evidence, viewer) -> Iterator[str]:
    """The JSON document, written piece by piece: a long run of records never sits in memory."""
    access_request = evidence.access_request
    # The request as the API shows it to this viewer (allowed_actions included).
    request_object = AccessRequestSerializer(access_request, context={"viewer": viewer}).data
    yield (
        f'{{"format":{dumps(FORMAT)}'
        f',"request":{dumps(request_object)}'
        f',"decisions":{dumps(_decisions(access_request))}'
        ',"records":['
    )
    pruned, batch, first = [], [], True
    for line in run_lines(evidence.run):
        if line["kind"] == "pruned":
            pruned.append(line)  # a handful per run: one per retention batch at most
            continue
        batch.append(dumps(line))
        if len(batch) >= CHUNK_SIZE:
            yield ("" if first else ",") + ",".join(batch)
            batch, first = [], False
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    checkpoint = evidence.checkpoint
    yield (
        f'],"pruned":{dumps(pruned)}'
        f',"checkpoint":{dumps(checkpoint_as_json(checkpoint, access_request.tenant) if checkpoint else None)}'
        f',"keys":{dumps(jwks())}}}'
    )


def evidence_allowed(viewer) -> bool:
    """The bundle holds the run of the customer's audit chain around the request, records of
    other requests and settings included (a chain cannot be checked with holes in it), so it is
    the customer's: its Global Administrators and approvers. Provider staff see the request, not
    the customer's log."""
    return can(viewer, Cap.VIEW_REQUESTS)


def evidence_response(access_request: AccessRequest, viewer, *, download: bool = False):
    if not evidence_allowed(viewer):
        raise NotAllowed(
            "The evidence bundle is the customer's: it holds the customer's audit log."
        )
    evidence = evidence_prepare(access_request)
    response = StreamingHttpResponse(
        evidence_chunks(evidence, viewer), content_type="application/json"
    )
    if download:
        name = f"evidence-request-{access_request.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
