"""Test settings: production settings with a throwaway key, fast hashing and local mail."""

import atexit
import os
import shutil
import tempfile

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
if not os.environ.get("CACHE_URL"):
    # The same shared file cache as production's default, but this run's own: two test runs in
    # one checkout (SQLite and PostgreSQL side by side) must not clear each other's counts.
    _CACHE_DIR = tempfile.mkdtemp(prefix="lockbox-test-cache-")
    atexit.register(shutil.rmtree, _CACHE_DIR, ignore_errors=True)
    CACHES = {"default": {**CACHES["default"], "LOCATION": _CACHE_DIR}}
