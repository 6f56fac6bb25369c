from django.db import migrations, models


def backfill(apps, schema_editor):
    """A request reached its customer when a Support Manager approved it internally."""
    AccessRequest = apps.get_model("requests_app", "AccessRequest")
    Decision = apps.get_model("requests_app", "Decision")
    approvals = Decision.objects.filter(stage="internal", outcome="approved")
    for decision in approvals.iterator():
        AccessRequest.objects.filter(pk=decision.access_request_id).update(
            reached_customer_at=decision.created_at
        )


class Migration(migrations.Migration):
    dependencies = [
        ("requests_app", "0003_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="accessrequest",
            name="reached_customer_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
