from django.core.management.base import BaseCommand

from audit_app.retention import audit_records_prune


class Command(BaseCommand):
    help = "Apply audit retention policies once: delete expired records, in bounded batches."

    def handle(self, *args, **options):
        counts = audit_records_prune()
        for slug, deleted in counts.items():
            self.stdout.write(f"{slug}: deleted {deleted} record(s)")
        self.stdout.write(f"Deleted {sum(counts.values())} audit record(s) in all.")
