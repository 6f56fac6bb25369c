"""Issue 17: the Celery settings every outbox publish reads are defined in settings.py (a
setting Django lacks costs Celery several failed lookups), each at Celery's own default."""

from celery.app.defaults import DEFAULTS
from django.conf import settings

from lockbox_site.celery import app


def test_the_stated_settings_are_celerys_defaults():
    for name, value in settings.CELERY_DEFAULTS_STATED.items():
        assert getattr(settings, f"CELERY_{name}") == value
        assert DEFAULTS[name.lower()] == value, name
        assert app.conf[name.lower()] == value
