"""The public keys anyone may fetch to check Lockbox's signatures, with no sign-in."""

from django.http import JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .signing import jwks


@require_GET
@cache_control(public=True, max_age=300)
def lockbox_keys(request):
    return JsonResponse(jwks())
