"""Dates in the user's own time zone: the browser names it in a cookie (app.js), pages render
in it, and every date keeps its UTC value on hover; exports and the API stay in UTC."""

import re
from datetime import UTC
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html

COOKIE = "tz"
# The product API and the Google Access Approval surface (lockbox_site/urls.py).
API_PREFIXES = ("/api/", "/v1/")
_NAME = re.compile(r"^[A-Za-z0-9_+\-/]{1,64}$")
register = template.Library()


@lru_cache(maxsize=512)
def zone_named(name: str) -> ZoneInfo | None:
    if not _NAME.match(name) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


class UserTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_named(request.COOKIES.get(COOKIE, ""))
        if request.path.startswith(API_PREFIXES):
            zone = None  # a program reads the API: its dates stay UTC whoever's cookie is sent
        if zone is None:
            timezone.deactivate()  # UTC, the default, until the browser has said
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def local(moment, fmt: str = "Y-m-d H:i") -> str:
    """`moment` as the user reads it: in the active (their) time zone."""
    return date_format(timezone.localtime(moment), fmt)


@register.filter
def when(moment, style: str = ""):
    """<time> in the user's zone, with the zone's name; the UTC value in its title (hover).
    `short`: day, month and time only, for a table column."""
    if not moment:
        return "—"
    utc = moment.astimezone(UTC)
    shown = local(moment, "j M H:i" if style == "short" else "Y-m-d H:i T")
    return format_html(
        '<time datetime="{}" title="{} UTC">{}</time>',
        utc.isoformat(),
        utc.strftime("%Y-%m-%d %H:%M"),
        shown,
    )
