from django.core.management.base import BaseCommand

from requests_app.services import outbox_flush, sweep


class Command(BaseCommand):
    help = (
        "Run the expiry sweeps once (what the beat job runs): expire and complete overdue requests."
    )

    def handle(self, *args, **options):
        counts = sweep()
        sent = outbox_flush()
        self.stdout.write(
            f"Expired {counts['expired']} request(s), completed {counts['completed']} "
            f"access window(s), flagged {counts['review_overdue']} emergency review(s) overdue, "
            f"delivered {sent} notification(s)."
        )
