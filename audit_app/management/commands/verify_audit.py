import json

from django.core.management.base import BaseCommand, CommandError

from audit_app.integrity import verify_tenant, verify_tenant_signatures
from tenants_app.models import Tenant


def _read_checkpoints(path: str) -> list[dict]:
    """One checkpoint object, a JSON list of them, or JSON Lines; a webhook body's `checkpoint`
    or `data` is taken as the checkpoint."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        try:
            items = json.loads(text)
            items = items if isinstance(items, list) else [items]
        except json.JSONDecodeError:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, ValueError, RecursionError) as exc:
        raise CommandError(f"{path}: not a checkpoint file ({exc})") from None
    found = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("checkpoint") or item.get("data") or item
            if isinstance(item, dict) and "jws" in item:
                found.append(item)
    if not found:
        raise CommandError(f"{path}: no checkpoint in it")
    return found


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Check every tenant's audit hash chain, its signed checkpoints and pruned ranges, and "
        "report the first place where it breaks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant to check")
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help=(
                "a checkpoint kept outside the database (JSON object, list or JSON Lines, e.g. "
                "the audit.checkpoint webhook's); repeatable. Without one, an intruder who also "
                "deletes the checkpoint rows can roll the log back unseen."
            ),
        )
        parser.add_argument(
            "--allow-unsigned-ranges",
            action="store_true",
            help="accept pruned ranges made before Lockbox signed them (a warning each)",
        )
        parser.add_argument(
            "--allow-unsigned-decisions",
            action="store_true",
            help="accept customer decisions recorded before Lockbox signed them",
        )

    def handle(self, *args, tenant=None, **options):
        held = [item for path in options["checkpoint"] for item in _read_checkpoints(path)]
        tenants = Tenant.objects.order_by("pk")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        broken = 0
        for item in tenants:
            checked, problem = verify_tenant(
                item, allow_unsigned_decisions=options["allow_unsigned_decisions"]
            )
            signed = verify_tenant_signatures(
                item, allow_unsigned_ranges=options["allow_unsigned_ranges"], held=held
            )
            for warning in signed.warnings:
                self.stdout.write(f"{item.slug}: warning: {warning}")
            if problem is not None:
                broken += 1
                where = f"record {problem.record_id}" if problem.record_id else "a gap"
                self.stdout.write(
                    f"{item.slug}: BROKEN at seq {problem.seq} ({where}): {problem.problem}"
                )
            elif signed.problem is not None:
                broken += 1
                self.stdout.write(
                    f"{item.slug}: BROKEN at seq {signed.problem.seq}: {signed.problem.problem}"
                )
            else:
                extra = [
                    _plural(count, noun)
                    for count, noun in (
                        (signed.checkpoints, "checkpoint"),
                        (signed.signed_ranges, "signed pruned range"),
                    )
                    if count
                ]
                verified = f"; {', '.join(extra)} verified" if extra else ""
                self.stdout.write(f"{item.slug}: intact ({checked} records{verified})")
        if broken:
            raise CommandError(f"The audit log of {broken} tenant(s) has been altered.")
        self.stdout.write(self.style.SUCCESS("The audit log is intact."))
