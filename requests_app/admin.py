from django.contrib import admin, messages

from lockbox_site.admin import ReadOnlyAdmin
from lockbox_site.errors import ApplicationError

from .models import AccessRequest, Decision, OutboxMessage, RequestMessage, Ticket, Webhook
from .services import sweep


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    """Engineers open and close tickets through the services; a ticket's tenant never changes."""

    list_display = ["id", "title", "tenant", "created_by", "status", "created_at"]
    list_filter = ["status", "tenant"]


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    can_delete = False
    readonly_fields = [
        "stage",
        "outcome",
        "actor",
        "automatic",
        "comment",
        "duration_minutes",
        "created_at",
        "statement",
        "jws",
    ]

    def has_add_permission(self, request, obj=None):
        return False


class RequestMessageInline(admin.TabularInline):
    """The question-and-answer thread; written only by the request_info and answer services."""

    model = RequestMessage
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "author", "text", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AccessRequest)
class AccessRequestAdmin(admin.ModelAdmin):
    """State changes only through the services; the admin shows and can run the sweep."""

    list_display = ["id", "ticket", "tenant", "requester", "status", "created_at", "expires_at"]
    list_filter = ["status", "tenant"]
    inlines = [DecisionInline, RequestMessageInline]
    actions = ["run_sweep"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Run the expiry sweep now")
    def run_sweep(self, request, queryset):
        try:
            counts = sweep()
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(
            request,
            f"Expired {counts['expired']}, completed {counts['completed']}, "
            f"{counts['review_overdue']} emergency reviews overdue.",
        )


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    """Deleting a message would drop an approver's e-mail or a customer's webhook unseen."""

    list_display = ["id", "kind", "tenant", "created_at", "sent_at", "attempts"]
    list_filter = ["kind", "sent_at"]


@admin.register(Webhook)
class WebhookAdmin(ReadOnlyAdmin):
    """Registration and deletion go through the audited Webhooks page; here staff only look."""

    list_display = ["url", "tenant", "created_at", "created_by"]
    list_filter = ["tenant"]
    exclude = ["secret"]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["access_request", "stage", "outcome", "actor", "automatic", "created_at"]
    list_filter = ["stage", "outcome"]


@admin.register(RequestMessage)
class RequestMessageAdmin(ReadOnlyAdmin):
    list_display = ["access_request", "kind", "author", "created_at"]
    list_filter = ["kind"]
