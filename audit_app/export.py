"""CSV export, streamed row by row so memory stays flat however large the result."""

import csv
import json

from django.http import StreamingHttpResponse
from django.utils import timezone

COLUMNS = [
    "id",
    "created_at",
    "record_type",
    "operation",
    "actor",
    "actor_type",
    "object_type",
    "object_id",
    "result",
    "client_ip",
    "details",
]


class _Echo:
    def write(self, value):
        return value


def _rows(queryset):
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in queryset.values_list(*COLUMNS).iterator(chunk_size=2000):
        values = dict(zip(COLUMNS, row, strict=True))
        values["created_at"] = values["created_at"].isoformat()
        values["details"] = json.dumps(values["details"], sort_keys=True)
        yield writer.writerow([_safe(values[c]) for c in COLUMNS])


def _safe(value):
    # Spreadsheets run cells that start with these characters as formulas (CSV injection).
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def audit_csv_response(queryset, tenant_slug: str) -> StreamingHttpResponse:
    name = f"audit-{tenant_slug}-{timezone.now():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(_rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
