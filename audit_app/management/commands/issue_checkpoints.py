from django.core.management.base import BaseCommand

from audit_app.checkpoints import checkpoints_issue_due


class Command(BaseCommand):
    help = "Sign a checkpoint for each tenant whose audit chain moved (what the beat job runs)."

    def handle(self, *args, **options):
        issued = checkpoints_issue_due()
        for checkpoint in issued:
            self.stdout.write(f"{checkpoint.tenant.slug}: checkpoint at seq {checkpoint.seq}")
        self.stdout.write(f"Issued {len(issued)} checkpoint(s).")
