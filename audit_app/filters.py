import django_filters
from django.db.models import Q

from lockbox_site.filters import IdFilter, UTCIsoDateTimeFilter

from .models import OPERATION_CHOICES, RECORD_TYPE_CHOICES, AuditRecord


class AuditRecordFilter(django_filters.FilterSet):
    """The audit search of SPEC section 4, shared by the web page, the API and the export."""

    start = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    end = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    # distinct=False: django-filter's default (for filters across to-many joins) made every
    # search a SELECT DISTINCT over the page; these are columns of the record itself.
    record_type = django_filters.MultipleChoiceFilter(choices=RECORD_TYPE_CHOICES, distinct=False)
    operation = django_filters.MultipleChoiceFilter(choices=OPERATION_CHOICES, distinct=False)
    actor = django_filters.CharFilter(field_name="actor", lookup_expr="iexact", max_length=200)
    object_id = django_filters.CharFilter(field_name="object_id", max_length=64)
    request = IdFilter(method="filter_request")
    q = django_filters.CharFilter(method="filter_text", max_length=200, label="Free text")

    class Meta:
        model = AuditRecord
        fields = ["start", "end", "record_type", "operation", "actor", "object_id", "request", "q"]

    def filter_request(self, queryset, name, value):
        # The request's own lifecycle records and everything done under it carry request_id.
        return queryset.filter(request_id=int(value))

    def filter_text(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(details__icontains=value) | Q(actor__icontains=value))
