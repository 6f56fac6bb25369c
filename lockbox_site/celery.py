import os

from celery import Celery

from .broker_fs import register as register_filesystem_broker
from .broker_redis import register as register_redis_broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lockbox_site.settings")

register_filesystem_broker()  # before any connection: messages written whole (broker_fs.py)
register_redis_broker()  # one Redis client per channel, not one per message (broker_redis.py)
app = Celery("lockbox_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
