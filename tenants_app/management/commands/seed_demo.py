from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from tenants_app import demo
from tenants_app.models import (
    CloudPC,
    IdentityProvider,
    IdentityProviderDomain,
    Tenant,
    User,
)


class Command(BaseCommand):
    help = "Create the demo world (tenants, users, Cloud PCs). Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=None, help=f"default: {demo.DEFAULT_PASSWORD}")

    @transaction.atomic
    def handle(self, *args, password=None, **options):
        tenants = {}
        provider, _ = Tenant.objects.get_or_create(
            slug=demo.PROVIDER["slug"],
            defaults={"name": demo.PROVIDER["name"], "kind": Tenant.Kind.PROVIDER},
        )
        tenants[provider.slug] = provider
        for spec in demo.CUSTOMERS:
            # get_or_create: running it again must not undo what an admin changed since.
            tenant, _ = Tenant.objects.get_or_create(
                slug=spec["slug"], defaults={**spec, "kind": Tenant.Kind.CUSTOMER}
            )
            tenants[tenant.slug] = tenant
        created_users = 0
        for username, tenant_slug, group, first, last in demo.USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": username,
                    "tenant": tenants[tenant_slug],
                    "first_name": first,
                    "last_name": last,
                },
            )
            if created or password:
                user.set_password(password or demo.DEFAULT_PASSWORD)
                user.save(update_fields=["password"])
            created_users += created
            user.groups.add(Group.objects.get_or_create(name=group)[0])
        for tenant_slug, pcs in demo.CLOUD_PCS.items():
            for name, assigned, region in pcs:
                CloudPC.objects.get_or_create(
                    tenant=tenants[tenant_slug],
                    name=name,
                    defaults={
                        "assigned_user": assigned,
                        "region": region,
                        "diagnostics": {
                            "os": "Windows 11 Enterprise 24H2",
                            "cpu_percent": 12,
                            "memory_gb": 16,
                            "disk_free_gb": 87,
                            "last_boot": "2026-11-01T08:00:00Z",
                            "agent_health": "healthy",
                        },
                    },
                )
        sso = dict(demo.WOODGROVE_SSO)
        domains = sso.pop("domains")
        provider, created = IdentityProvider.objects.get_or_create(
            tenant=tenants["woodgrove"], defaults=sso
        )
        if created:
            for domain in domains:
                IdentityProviderDomain.objects.get_or_create(provider=provider, domain=domain)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world ready: {len(tenants)} tenants, {created_users} new user(s). "
                f"Sign in as admin@contoso.example with the demo password."
            )
        )
