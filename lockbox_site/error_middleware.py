"""One place that turns the services' errors into the product's error pages."""

from .error_views import error_page, is_api
from .errors import ApplicationError, StepUpRequired


class ErrorPageMiddleware:
    """An ApplicationError that a view lets through becomes its page (404/403/409/400), and
    Django's bodiless 405 (require_POST) becomes the product's 405 page; the API keeps its
    JSON errors (DRF's exception handler)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not is_api(request) and not response.content:
            allow = response.get("Allow", "")
            response = error_page(
                request, 405, f"{request.method} is not accepted here (only {allow})."
            )
            response["Allow"] = allow
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, StepUpRequired):
            return None  # not a dead end: tenants_app.mfa_middleware asks for the code
        if isinstance(exception, ApplicationError) and not is_api(request):
            return error_page(request, exception.status_code, exception.message)
        return None
