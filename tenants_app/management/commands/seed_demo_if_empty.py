from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants_app.models import Tenant


class Command(BaseCommand):
    help = "Seed the demo world only when the database has no tenant yet (used by `make run`)."

    def handle(self, *args, **options):
        if Tenant.objects.exists():
            self.stdout.write("Database already has tenants; not seeding.")
            return
        call_command("seed_demo")
