"""A JSON renderer that writes DRF's JSONRenderer's bytes with orjson (issue 17).

The audit search renders a page of 50 records (about 30 KB) for every call; DRF's renderer
(json.dumps with its encoder) spent about 0.19 ms of CPU on it, orjson about 0.01 ms. The
bytes are DRF's, not merely equivalent JSON: clients and caches see no change, and
tests/api/test_fast_json.py compares the two on every type a response can hold.

orjson writes plain str, int, bool, None, dict and list itself, and that output is what
json.dumps writes with DRF's settings (UNICODE_JSON, COMPACT_JSON). Everything else reaches
`_as_drf_sees_it`: subclasses (an OrderedDict, DRF's ReturnDict and ReturnList, an enum) are
turned into what json.dumps would have written for them, and other objects (datetimes, UUIDs,
lazy strings, decimals) go through DRF's own encoder. What neither can say (an unknown object,
a key that is not a string, a pretty-printed response) is rendered by DRF's renderer itself, so
an error or an edge case behaves as before.

Differences left on purpose, none of which any response holds (no service writes a float, a
Decimal or an enum other than Django's Choices, and audit details are written by the services):
- a float below 1e-4 in magnitude is written in orjson's form (1e-7 and 0.00001 where Python
  writes 1e-07 and 1e-05), the same number;
- NaN and infinities, from a float or a Decimal, are written as null where DRF's strict JSON
  refuses them (a 500);
- an enum is written as its value, orjson's rule: json.dumps writes an int or str mixin's own
  content and fails on a plain Enum. For IntEnum, StrEnum and Django's Choices the two agree.

A one-shot iterable (a generator, a map) goes to DRF's renderer whole: converting it here would
consume it, and a fallback later in the same response would then find it empty.
"""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
_OPTIONS |= orjson.OPT_PASSTHROUGH_SUBCLASS
_DRF_DEFAULT = JSONEncoder().default


def _as_drf_sees_it(value):
    """What json.dumps (DRF's encoder) writes for a value orjson leaves to us: its C encoder
    reads a dict subclass through items() and a list or tuple subclass by iterating it,
    writes a str subclass's characters and an int or float subclass's number; anything else
    is DRF's encoder's (TypeError when it has no answer, and DRF's renderer takes over)."""
    if isinstance(value, dict):
        return dict(value.items())
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if _is_iterator(value):
        raise TypeError("a one-shot iterable is rendered by DRF's renderer, whole")
    return _DRF_DEFAULT(value)


def _is_iterator(value) -> bool:
    try:
        return iter(value) is value
    except TypeError:
        return False


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, its compact output written by orjson (see the module docstring)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or not self._as_orjson_writes(accepted_media_type, renderer_context):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_as_drf_sees_it, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: U+2028 and U+2029 escaped, so the JSON is also valid JavaScript.
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out

    def _as_orjson_writes(self, accepted_media_type, renderer_context) -> bool:
        """DRF's default settings and encoder, compact: what orjson's output matches. Any other
        configuration (a subclass's, or an indent asked for) is DRF's renderer's own."""
        return (
            not self.ensure_ascii
            and self.compact
            and self.strict
            and self.encoder_class is JSONEncoder
            and self.get_indent(accepted_media_type, renderer_context or {}) is None
        )
