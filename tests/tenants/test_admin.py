"""The Django admin stays available to staff, with every model registered and audit read-only."""

import pytest
from django.apps import apps
from django.contrib import admin


def test_every_model_of_the_apps_is_registered():
    for app in ("tenants_app", "requests_app", "audit_app"):
        for model in apps.get_app_config(app).get_models():
            assert admin.site.is_registered(model), model


def test_staff_see_audit_records_but_cannot_change_them(world, client, make_request):
    from audit_app.models import AuditRecord

    make_request()
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    record = AuditRecord.objects.first()
    assert client.get("/admin/audit_app/auditrecord/").status_code == 200
    page = client.get(f"/admin/audit_app/auditrecord/{record.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert (
        client.post(
            f"/admin/audit_app/auditrecord/{record.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    assert AuditRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/requests_app/accessrequest/", "/admin/tenants_app/tenant/"]
)
def test_non_staff_are_sent_to_the_admin_login(world, client, path):
    client.force_login(world.admin)
    assert client.get(path).status_code == 302
