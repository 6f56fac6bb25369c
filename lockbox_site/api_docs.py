"""OpenAPI descriptions of the uniform error body, shared by every app's API."""

from drf_spectacular.utils import OpenApiResponse

# {"detail": "..."} or DRF's per-field errors {"field": ["..."]}, possibly with extra keys.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_SCHEMA, description=description)


ERRORS = {
    400: error("Bad input"),
    403: error("Not allowed"),
    404: error("Not found, or another tenant's"),
}
STATE_ERRORS = {**ERRORS, 409: error("Wrong state")}
