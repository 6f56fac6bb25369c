import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lockbox_site.settings")

app = Celery("lockbox_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
