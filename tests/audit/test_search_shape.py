"""The audit search API's bytes: byte for byte what DRF's stock ModelSerializer and
CursorPagination produced for the same records, so a faster path can never drift from it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIRequestFactory, force_authenticate

from audit_app.filters import AuditRecordFilter
from audit_app.models import AuditRecord
from tests.audit.conftest import T0

PATH = "/api/v1/audit/records/"


class ReferenceSerializer(serializers.ModelSerializer):
    """The record as the API showed it before any fast path: every field DRF's own way."""

    tenant = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "created_at",
            "tenant",
            "record_type",
            "operation",
            "actor",
            "actor_type",
            "object_type",
            "object_id",
            "result",
            "client_ip",
            "details",
            "request_id",
            "seq",
            "hash",
        ]
        read_only_fields = fields


class ReferencePagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ReferenceSerializer
    renderer_classes = [JSONRenderer]  # DRF's own, not the API's (lockbox_site/renderers.py)
    filterset_class = AuditRecordFilter
    pagination_class = ReferencePagination

    def get_queryset(self):
        user = self.request.user
        return (
            AuditRecord.objects.filter(tenant_id=user.tenant_id)
            .order_by("-created_at", "-id")
            .select_related("tenant")
        )


def _reference(user, url, query=None, zone=None, **kwargs):
    request = APIRequestFactory().get(url, query)
    force_authenticate(request, user=user)
    actions = {"get": "retrieve"} if kwargs else {"get": "list"}
    with timezone.override(zone):
        response = ReferenceViewSet.as_view(actions)(request, **kwargs)
        response.render()
    assert response.status_code == 200
    return response.content


@pytest.fixture
def varied(world, write_record, days):
    """Records with every kind of value a field can hold: nulls, IPs, nested and non-ASCII
    details, microseconds and whole seconds, another tenant's record beside them."""
    written = [
        write_record(world.contoso, at=days(1), actor=None, details={}),
        write_record(
            world.contoso,
            at=days(1) + timedelta(microseconds=123456),
            actor=world.engineer,
            object_type="CloudPC",
            object_id="7",
            client_ip="203.0.113.9",
            details={"request_id": 41, "action": "restart", "note": "Zoë ✓", "n": [1, 2.5]},
        ),
        write_record(
            world.contoso,
            at=days(2),
            actor=world.admin,
            operation="LockboxSettingChanged",
            record_type="CustomerLockboxSettings",
            object_id="contoso",
            result="failure",
            client_ip="2001:db8::1",
            details={"old_value": True, "new_value": None},
        ),
        write_record(world.northwind, at=days(2), actor=world.northwind_admin),
    ]
    for n in range(5):
        written.append(write_record(world.contoso, at=days(3 + n), details={"n": n}))
    return written


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"record_type": "Windows365CustomerLockbox"},
        {
            "start": (T0 + timedelta(days=1)).isoformat(),
            "end": (T0 + timedelta(days=2)).isoformat(),
        },
        {"q": "RESTART"},
        {"request": "41"},
    ],
)
def test_a_page_is_byte_for_byte_the_stock_serializers(world, api, varied, query):
    response = api(world.auditor).get(PATH, query)
    assert response.status_code == 200 and response.json()["results"]
    assert response.content == _reference(world.auditor, PATH, query)


def test_every_page_of_a_walk_and_its_links_are_the_stock_ones(world, api, varied):
    client, url, pages = api(world.admin), PATH + "?page_size=3", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        assert response.content == _reference(world.admin, url)
        url, pages = response.json()["next"], pages + 1
    assert pages == 3  # eight contoso records, three a page


def test_the_api_stays_in_utc_whatever_time_zone_the_browser_names(world, api, varied):
    """The tz cookie is for pages (lockbox_site/timezones.py); the API's dates stay UTC for a
    browser's session too (they followed the cookie before)."""
    client = api(world.auditor)
    client.cookies["tz"] = "Asia/Kolkata"
    response = client.get(PATH)
    assert response.json()["results"][0]["created_at"].endswith("Z")
    assert response.content == _reference(world.auditor, PATH)


def test_a_faster_path_renders_in_the_active_time_zone_as_drf_does(world, varied):
    """Whatever zone is active when a page renders, the fast serializer follows DRF."""
    from audit_app.apis import AuditRecordViewSet

    request = APIRequestFactory().get(PATH)
    force_authenticate(request, user=world.auditor)
    with timezone.override("Asia/Kolkata"):
        response = AuditRecordViewSet.as_view({"get": "list"})(request)
        response.render()
    assert "+05:30" in response.data["results"][0]["created_at"]
    assert response.content == _reference(world.auditor, PATH, zone="Asia/Kolkata")


def test_one_record_is_the_stock_serializers(world, api, varied):
    record = varied[1]
    response = api(world.auditor).get(f"{PATH}{record.pk}/")
    assert response.status_code == 200
    assert response.content == _reference(world.auditor, f"{PATH}{record.pk}/", pk=record.pk)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"record_type": ["Windows365CustomerLockbox"], "operation": ["Nope"], "start": "x"},
        {"start": "2026-03-05T00:00:00", "end": "2026-03-01T00:00:00", "request": "0"},
        {"result": "failure", "actor": "a" * 201, "q": "printer", "object_id": "7"},
    ],
)
def test_the_search_form_is_the_one_django_filter_builds(data):
    """The search's form class is built once; the form it makes (fields, labels, choices,
    widgets, errors, cleaned values) is the one django-filter builds for every search."""
    from django.http import QueryDict
    from django_filters import FilterSet

    query = QueryDict(mutable=True)
    for name, value in data.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    ours = AuditRecordFilter(query, queryset=AuditRecord.objects.all())
    stock = AuditRecordFilter(query, queryset=AuditRecord.objects.all())
    stock._form = stock_form = FilterSet.get_form_class(stock)(stock.data)
    assert ours.form.is_valid() == stock_form.is_valid()
    assert ours.form.errors == stock_form.errors
    assert ours.form.cleaned_data == stock_form.cleaned_data
    assert str(ours.form) == str(stock_form)
    assert [(f.label, f.help_text) for f in ours.form] == [
        (f.label, f.help_text) for f in stock_form
    ]
    assert str(ours.qs.query) == str(stock.qs.query)


def test_the_serializer_alone_renders_any_records_as_the_stock_one(world, varied):
    """Outside the search (no caller's tenant in the context, model instances, records of two
    tenants in one list) the serializer still says what the stock one says."""
    from audit_app.serializers import AuditRecordSerializer

    records = list(AuditRecord.objects.order_by("id"))
    assert {r.tenant_id for r in records} == {world.contoso.pk, world.northwind.pk}
    assert AuditRecordSerializer(records, many=True).data == (
        ReferenceSerializer(records, many=True).data
    )
    contoso_only = AuditRecordSerializer(records, many=True, context={"tenant": world.contoso})
    assert contoso_only.data == ReferenceSerializer(records, many=True).data
    assert AuditRecordSerializer(records[-1]).data == ReferenceSerializer(records[-1]).data


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Asia/Kolkata", "America/St_Johns", None])
def test_a_pages_datetimes_render_as_drfs_field_does(zone, settings):
    """The page's created_at renderer takes DRF's common case directly; every value, zone and
    edge (naive, microseconds, offsets, the ends of the calendar) renders as the field does."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from audit_app.serializers import _datetime_as_drf_renders

    field = serializers.DateTimeField(default_timezone=ZoneInfo(zone) if zone else None)
    utc_field = serializers.DateTimeField(default_timezone=UTC)
    render = _datetime_as_drf_renders(field)
    values = [
        datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2026, 7, 1, 23, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
        datetime(2026, 3, 1, 12, 0),
        datetime(2026, 3, 1, 12, 0, tzinfo=ZoneInfo("UTC")),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ]
    for value in values:
        if value is not None:
            assert _datetime_as_drf_renders(utc_field)(value) == utc_field.to_representation(value)
        try:
            expected = field.to_representation(value)
        except serializers.ValidationError as error:
            with pytest.raises(serializers.ValidationError) as raised:
                render(value)
            assert raised.value.detail == error.detail
        else:
            assert render(value) == expected
