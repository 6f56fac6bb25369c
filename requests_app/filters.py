import django_filters

from lockbox_site.filters import IdFilter, UTCIsoDateTimeFilter

from .models import AccessRequest


class AccessRequestFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AccessRequest.Status.choices)
    tenant = django_filters.CharFilter(field_name="tenant__slug", max_length=60)
    ticket = IdFilter(field_name="ticket_id")
    requester = django_filters.CharFilter(field_name="requester__username", max_length=150)
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AccessRequest
        fields = ["status", "tenant", "ticket", "requester", "created_after", "created_before"]
