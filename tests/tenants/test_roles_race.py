"""Two Global Administrators acting at once never leave their tenant without one."""

import threading
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from rest_framework.test import APIClient

from audit_app.models import AuditRecord
from tenants_app.models import User

GA = "Global Administrator"


def _race(calls):
    """Send every (actor, target) PUT at once, each from its own thread; count the answers."""
    barrier = threading.Barrier(len(calls))
    codes: Counter = Counter()
    errors: list = []

    def run(actor_pk, target_pk):
        try:
            client = APIClient()
            client.force_authenticate(User.objects.get(pk=actor_pk))
            barrier.wait()
            response = client.put(f"/api/v1/users/{target_pk}/roles/", {"roles": []}, format="json")
            codes[response.status_code] += 1
        except Exception as exc:  # a deadlock, "database is locked", anything unplanned
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return codes, errors


def _admins(tenant):
    return set(
        User.objects.filter(tenant=tenant, groups__name=GA).values_list("username", flat=True)
    )


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_the_last_two_admins_removing_themselves_at_once_leave_one(world, round_):
    world.approver.groups.set([Group.objects.get(name=GA)])
    a, b = world.admin.pk, world.approver.pk
    codes, errors = _race([(a, a), (b, b)])
    assert errors == []
    assert codes == Counter({200: 1, 409: 1})
    assert len(_admins(world.contoso)) == 1
    assert AuditRecord.objects.filter(operation="RoleRemoved", details__role=GA).count() == 1


@pytest.mark.reliability
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_admins_removing_each_other_at_once_leave_one(world, round_):
    world.approver.groups.set([Group.objects.get(name=GA)])
    a, b = world.admin.pk, world.approver.pk
    codes, errors = _race([(a, b), (b, a)])
    assert errors == []
    # The second finds it is no longer an administrator.
    assert codes == Counter({200: 1, 403: 1})
    assert len(_admins(world.contoso)) == 1
