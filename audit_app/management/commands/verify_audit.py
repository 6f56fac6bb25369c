from django.core.management.base import BaseCommand, CommandError

from audit_app.integrity import verify_tenant
from tenants_app.models import Tenant


class Command(BaseCommand):
    help = "Check every tenant's audit hash chain and report the first record where it breaks."

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
            if problem is None:
                self.stdout.write(f"{item.slug}: intact ({checked} records)")
            else:
                broken += 1
                where = f"record {problem.record_id}" if problem.record_id else "a gap"
                self.stdout.write(
                    f"{item.slug}: BROKEN at seq {problem.seq} ({where}): {problem.problem}"
                )
        if broken:
            raise CommandError(f"The audit log of {broken} tenant(s) has been altered.")
        self.stdout.write(self.style.SUCCESS("The audit log is intact."))
