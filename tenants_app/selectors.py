from django.db.models import QuerySet

from .models import CloudPC, Tenant, User
from .roles import Cap, can, require


def customer_tenants() -> QuerySet[Tenant]:
    return Tenant.objects.filter(kind=Tenant.Kind.CUSTOMER)


def cloud_pcs_for_customer(user) -> QuerySet[CloudPC]:
    """A customer's own Cloud PCs; nothing for anyone else."""
    if not can(user, Cap.VIEW_CLOUD_PCS):
        return CloudPC.objects.none()
    return CloudPC.objects.filter(tenant_id=user.tenant_id)


def tenant_users(user) -> QuerySet[User]:
    """The users of a Global Administrator's own tenant, with their roles (403 for anyone else)."""
    require(user, Cap.MANAGE_ROLES, "Only a Global Administrator can manage roles.")
    return (
        User.objects.filter(tenant_id=user.tenant_id)
        .prefetch_related("groups")
        .order_by("username", "id")
    )
