from django.core.management.base import BaseCommand, CommandError

from audit_app.integrity import verify_tenant, verify_tenant_signatures
from tenants_app.models import Tenant


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Check every tenant's audit hash chain, its signed checkpoints and pruned ranges, and "
        "report the first place where it breaks."
    )

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="slug of one tenant to check")

    def handle(self, *args, tenant=None, **options):
        tenants = Tenant.objects.order_by("pk")
        if tenant:
            tenants = tenants.filter(slug=tenant)
            if not tenants.exists():
                raise CommandError(f"No tenant with slug {tenant!r}.")
        broken = 0
        for item in tenants:
            checked, problem = verify_tenant(item)
            signed = verify_tenant_signatures(item)
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
