from django.apps import AppConfig


class AuditAppConfig(AppConfig):
    name = "audit_app"
    verbose_name = "Audit"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy check)
