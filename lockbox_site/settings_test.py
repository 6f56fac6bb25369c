"""Test settings: production settings with a throwaway key, fast hashing and local mail."""

import os

os.environ.setdefault("SECRET_KEY", "insecure-key-for-tests-only")
os.environ.setdefault("STATIC_MANIFEST", "false")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

from .settings import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["*"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"auth-token": "1000/min"}}
LOCKBOX_WEBHOOK_ALLOW_PRIVATE = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django empties the test database between transactional tests with TRUNCATE; the audit
    # tables' guard (audit_app migration 0006) allows it only with this session flag, which
    # production never sets.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c lockbox.allow_truncate=on"
