"""The one application error, raised by services and mapped to HTTP by views and the API."""


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class InvalidInput(ApplicationError):
    status_code = 400


class NotAllowed(ApplicationError):
    status_code = 403


class NotFound(ApplicationError):
    status_code = 404


class InvalidState(ApplicationError):
    """The object is not in a state that allows this change (HTTP 409)."""

    status_code = 409


class StepUpRequired(NotAllowed):
    """The tenant asks for a recently verified second factor (SPEC 14): a 403 whose `reason`
    says so; the web answers it with the step-up prompt instead of a bare 403 page."""


class TooManyAttempts(ApplicationError):
    status_code = 429
