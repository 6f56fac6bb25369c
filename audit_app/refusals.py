"""Refused attempts on a tenant's objects, audited after the refused change rolled back."""

from functools import wraps

from lockbox_site.errors import NotAllowed

from .models import RecordType
from .services import audit_record_failure


def refusals_audited(*, operation, object_type, locate, record_type=RecordType.SETTINGS):
    """Decorate a service so a 403 it raises is audited in the object's tenant.

    `locate(kwargs)` names (tenant_id, object_id, extra details) of the object the call was
    about, or None when there is no such object: made-up ids must not each write a record.
    A hidden object is a 404 before any 403, and 404s are not audited.
    """

    def decorate(service):
        @wraps(service)
        def wrapper(**kwargs):
            try:
                return service(**kwargs)
            except NotAllowed as exc:
                located = locate(kwargs)
                if located is None:
                    raise
                tenant_id, object_id, details = located
                audit_record_failure(
                    tenant_id=tenant_id,
                    actor=kwargs["actor"],
                    record_type=record_type,
                    operation=operation,
                    object_type=object_type,
                    object_id=object_id,
                    details={**details, "reason": exc.message},
                    client_ip=kwargs.get("client_ip"),
                )
                raise

        return wrapper

    return decorate


def actor_tenant(kwargs) -> tuple[int, str, dict]:
    """For the tenant's own settings: the actor's tenant is the object's."""
    actor = kwargs["actor"]
    return actor.tenant_id, actor.tenant.slug, {}
