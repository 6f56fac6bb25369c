from django.apps import AppConfig


class TenantsAppConfig(AppConfig):
    name = "tenants_app"
    verbose_name = "Tenants"

    def ready(self):
        from . import signals  # noqa: F401  (connects the sign-in failure audit)
