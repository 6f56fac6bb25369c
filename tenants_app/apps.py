from django.apps import AppConfig


class TenantsAppConfig(AppConfig):
    name = "tenants_app"
    verbose_name = "Tenants"

    def ready(self):
        from lockbox_site import db_timestamps

        from . import signals  # noqa: F401  (connects the sign-in failure audit)

        # Site-wide, here because this is the first of the project's apps to be ready.
        db_timestamps.connect()
