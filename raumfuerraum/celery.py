"""The Celery application: workers deliver the outbox and run the integrations."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raumfuerraum.settings")

app = Celery("raumfuerraum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
