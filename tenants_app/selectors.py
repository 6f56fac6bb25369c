from django.db.models import QuerySet

from .models import CloudPC, Tenant
from .roles import Cap, can


def customer_tenants() -> QuerySet[Tenant]:
    return Tenant.objects.filter(kind=Tenant.Kind.CUSTOMER)


def cloud_pcs_for_customer(user) -> QuerySet[CloudPC]:
    """A customer's own Cloud PCs; nothing for anyone else."""
    if not can(user, Cap.VIEW_CLOUD_PCS):
        return CloudPC.objects.none()
    return CloudPC.objects.filter(tenant_id=user.tenant_id)
