"""The API's JSON parser: bounded in size and depth, so no body can turn into a 500."""

from django.conf import settings
from rest_framework import exceptions, parsers


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "payload_too_large"

    def __init__(self):
        super().__init__(
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
        )


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None:
            # Django enforces the limit for form bodies only; read one byte past it to tell.
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise PayloadTooLarge()
            stream = _Replay(body)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json.loads recurses per nesting level: "[" * 5000 exhausts the stack.
            raise exceptions.ParseError(
                "JSON parse error - the document is nested too deeply."
            ) from None


class _Replay:
    """A file-like over bytes already read (codecs.getreader needs read())."""

    def __init__(self, body: bytes):
        self._body = body

    def read(self, size=-1):
        body, self._body = self._body, b""
        return body
