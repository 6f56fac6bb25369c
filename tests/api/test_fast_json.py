"""The API's JSON is written by orjson (lockbox_site/renderers.py) and is byte for byte what
DRF's JSONRenderer writes: for every kind of value a response can hold, and for the responses
themselves, through the endpoints production serves."""

import collections
import datetime
import decimal
import enum
import uuid

import pytest
from django.test import Client
from django.utils.functional import lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from lockbox_site.renderers import FastJSONRenderer
from tenants_app.tokens import token_issue


class Level(enum.IntEnum):
    HIGH = 3


class Colour(enum.StrEnum):
    RED = "red"


class Plain(enum.Enum):
    ONE = "one"


class Named(str):
    def __str__(self):
        return "not what json.dumps writes"


class Counted(int):
    def __int__(self):
        return 99


class OneItem(list):
    def __iter__(self):
        return iter(["only this"])


class Pair(tuple):
    pass


class Renamed(dict):
    def items(self):
        return [("renamed", 1)]


def _moved():
    moved = collections.OrderedDict(a=1, b=2, c=3)
    moved.move_to_end("a")  # items() order differs from insertion order
    return moved


VALUES = {
    "escapes": {"s": 'ü \u2028 \u2029 \x00\x1f\x7f "\\ \n\t\b\f 😀 </script>'},
    "scalars": [1, True, False, None, -(2**63), 2**64 - 1, "", 0],
    "ordered dict": _moved(),
    "serializer dict": ReturnDict({"a": 1, "b": [1]}, serializer=None),
    "serializer list": ReturnList([{"a": 1}], serializer=None),
    "int enum": {"level": Level.HIGH},
    "str enum": [Colour.RED],
    "str subclass": Named("abc"),
    "int subclass": Counted(5),
    "list subclass": OneItem([1, 2, 3]),
    "tuple subclass": Pair((1, (2, 3))),
    "dict subclass": Renamed(z=2),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "decimal": decimal.Decimal("1.5"),
    "datetime utc": datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
    "datetime offset": datetime.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    ),
    "date": datetime.date(2026, 1, 1),
    "time": datetime.time(1, 2, 3),
    "timedelta": datetime.timedelta(seconds=5),
    "lazy text": lazy(lambda: "translated", str)(),
    "bytes": b"bytes",
    "set": {"k": {1}},
    "re-iterables": [{"a": 1}.keys(), {"b": 2}.values(), frozenset([3])],
    "empty": [[], {}],
    "long": "x" * 100_000,
    "plain floats": [0.5, 2.5, 100.0, -1.25],
}


# What orjson cannot write: DRF's renderer writes the whole response.
FALLBACKS = {
    "beyond 64 bits": [2**64, -(2**63) - 1, 10**30],
    "non-string keys": {1: 2, None: 3, False: 4, 2.5: 5},
    "str subclass key": {Named("k"): 1},
}
_deep: list = []
for _ in range(300):  # orjson stops at 254 levels
    _deep = [_deep]
FALLBACKS["deeper than orjson goes"] = _deep


@pytest.fixture
def fallbacks(monkeypatch):
    """How many times the fast renderer handed a response to DRF's renderer."""
    calls = []
    drf_render = JSONRenderer.render

    def spy(self, *args, **kwargs):
        if isinstance(self, FastJSONRenderer):
            calls.append(args[0])
        return drf_render(self, *args, **kwargs)

    monkeypatch.setattr(JSONRenderer, "render", spy)
    return calls


@pytest.mark.parametrize("value", list(VALUES.values()), ids=list(VALUES))
def test_the_bytes_are_drfs_for_every_kind_of_value(value, fallbacks):
    assert FastJSONRenderer().render(value) == JSONRenderer().render(value)
    assert fallbacks == []  # written by orjson, not handed back


@pytest.mark.parametrize("value", list(FALLBACKS.values()), ids=list(FALLBACKS))
def test_what_orjson_cannot_write_is_drfs_renderers(value, fallbacks):
    assert FastJSONRenderer().render(value) == JSONRenderer().render(value)
    assert len(fallbacks) == 1


def test_a_one_shot_iterable_is_never_half_consumed(fallbacks):
    """A generator before something only DRF can write: DRF's renderer gets it untouched."""

    def response():
        return {"ids": (n for n in (1, 2)), "names": map(str, (3, 4)), "big": 2**64}

    assert (
        FastJSONRenderer().render(response())
        == b'{"ids":[1,2],"names":["3","4"],"big":18446744073709551616}'
    )
    assert FastJSONRenderer().render(response()) == JSONRenderer().render(response())


def test_another_configuration_is_drfs_own():
    class Lenient(FastJSONRenderer):
        strict = False

    class Custom(JSONEncoder):
        def default(self, value):
            return "custom"

    class Encoded(FastJSONRenderer):
        encoder_class = Custom

    assert Lenient().render([float("nan")]) == b"[NaN]"
    assert Encoded().render({"s": {1}}) == b'{"s":"custom"}'


def test_what_neither_can_write_fails_as_drf_fails():
    """An object neither knows: the same TypeError, from DRF's renderer."""
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})
    with pytest.raises(TypeError):
        FastJSONRenderer().render({"x": object()})


def test_the_documented_differences():
    """Floats below 1e-4 in orjson's form (the same numbers), NaN and infinities as null where
    DRF's strict JSON refuses them, an enum as its value; no response holds any of them."""
    assert FastJSONRenderer().render([1e-7, 1e-5, 0.5, 1e16]) == b"[1e-7,0.00001,0.5,1e+16]"
    assert JSONRenderer().render([1e-7, 1e-5, 0.5, 1e16]) == b"[1e-07,1e-05,0.5,1e+16]"
    for value in (float("nan"), float("inf"), decimal.Decimal("NaN")):
        assert FastJSONRenderer().render([value]) == b"[null]"
        with pytest.raises(ValueError):
            JSONRenderer().render([value])
    assert FastJSONRenderer().render([Plain.ONE]) == b'["one"]'
    with pytest.raises(TypeError):
        JSONRenderer().render([Plain.ONE])


def test_a_pretty_printed_response_is_drfs_own():
    renderer = FastJSONRenderer()
    pretty = renderer.render({"a": [1]}, "application/json; indent=2")
    assert pretty == b'{\n  "a": [\n    1\n  ]\n}'
    assert pretty == JSONRenderer().render({"a": [1]}, "application/json; indent=2")


def _assert_drf_bytes(response, fallbacks):
    assert isinstance(response.accepted_renderer, FastJSONRenderer)
    assert fallbacks == []  # orjson wrote the response
    assert response.content == JSONRenderer().render(response.data)


def test_the_api_answers_with_drfs_bytes(world, api, make_request, fallbacks):
    make_request()
    client = api(world.admin)
    for path in ("/api/v1/me/", "/api/v1/audit/records/", "/api/v1/requests/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.json()  # not empty: the comparison below compares something
        _assert_drf_bytes(response, fallbacks)


def test_errors_are_drfs_bytes_too(world, api, fallbacks):
    response = api(world.admin).get("/api/v1/audit/records/", {"result": "maybe"})
    assert response.status_code == 400
    _assert_drf_bytes(response, fallbacks)


def test_the_browsable_api_and_indented_json_still_work(world, client):
    client.force_login(world.admin)
    page = client.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "admin@contoso.example" in page.content.decode()
    indented = client.get("/api/v1/me/", HTTP_ACCEPT="application/json; indent=4")
    assert indented.status_code == 200
    assert indented.content.startswith(b'{\n    "')


def test_the_google_surface_answers_with_drfs_bytes(world, make_request, fallbacks):
    make_request(stage="pending_customer")
    _, token = token_issue(world.approver)
    response = Client().get(
        "/v1/organizations/contoso/approvalRequests", HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert response.status_code == 200
    assert response.json()["approvalRequests"]
    _assert_drf_bytes(response, fallbacks)
