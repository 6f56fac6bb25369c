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

One difference is left, on purpose: a float below 1e-4 is written with orjson's exponent (1e-7
where Python writes 1e-07; the same number), and NaN or Infinity as null where DRF's strict JSON refuses
them; a plain Enum (neither int nor str) is written as its value where DRF's encoder fails. No
response holds either: no service writes a float or such an enum, and audit details are
written by the services.
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
    return _DRF_DEFAULT(value)


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, its compact output written by orjson (see the module docstring)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None or self.ensure_ascii or not self.compact:
            return super().render(data, accepted_media_type, renderer_context)
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            out = orjson.dumps(data, default=_as_drf_sees_it, option=_OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF: U+2028 and U+2029 escaped, so the JSON is also valid JavaScript.
        if b"\xe2\x80\xa8" in out or b"\xe2\x80\xa9" in out:
            out = out.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return out
