from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Staff may look; changes go only through the audited services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
