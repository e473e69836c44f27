"""The Celery application: workers deliver the outbox and run the integrations."""

import os

from celery import Celery

from .logs import connect_celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raumfuerraum.settings")

app = Celery("raumfuerraum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# A task queued in a request carries its id; the worker logs with it (raumfuerraum/logs.py).
connect_celery()
