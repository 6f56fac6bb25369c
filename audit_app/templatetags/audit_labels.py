from django import template
from django.urls import reverse
from django.utils.html import format_html

from ..labels import diagnostic_rows, friendly

register = template.Library()
# Where a record's details name its object (a policy's name, a Cloud PC's, a user's, a URL).
NAME_KEYS = ("name", "cloud_pc", "user", "url")


@register.filter
def label(value: str) -> str:
    return friendly(value)


@register.filter
def labelled(value: str):
    """The friendly name with the exact stored value beside it, for search and filters."""
    return format_html('{} <code class="exact">{}</code>', friendly(value), value)


@register.filter
def diagnostics(values: dict):
    return diagnostic_rows(values or {})


@register.filter
def audit_object(record):
    """The record's object named, and linked where the reader has a page for it."""
    if not record.object_type:
        return "—"
    if record.object_type == "AccessRequest" and record.object_id:
        url = reverse("requests:detail", args=[record.object_id])
        return format_html('<a href="{}">Request {}</a>', url, record.object_id)
    details = record.details if isinstance(record.details, dict) else {}
    name = next((details[k] for k in NAME_KEYS if isinstance(details.get(k), str)), "")
    kind = {"CloudPC": "Cloud PC", "RetentionPolicy": "Retention policy"}.get(
        record.object_type, record.object_type
    )
    if name:
        return format_html("{} {}", kind, name)
    return format_html("{} {}", kind, record.object_id)
