from django.apps import AppConfig


class TenantsAppConfig(AppConfig):
    name = "tenants_app"
    verbose_name = "Tenants"
