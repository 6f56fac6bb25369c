"""The sign-in throttle, counted in the shared cache."""

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class SignInRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, keyed on REMOTE_ADDR, that lets a sign-in through when the cache
    cannot be reached: django-axes' lockout (in the database) still stops guessing, and an
    outage of Redis must not stop everyone from signing in."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            logger.warning("Sign-in throttle skipped: the cache is unreachable", exc_info=True)
            return True
