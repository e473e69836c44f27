"""Log lines an operator can follow: a request id on every line, one JSON object per line
with RFR_LOG_FORMAT=json.

The id comes from the caller's X-Request-ID (HAProxy or nginx may set one) or is made
here, goes back in the response's X-Request-ID, into each outbox message the request
writes (payload "request_id") and into the headers of each Celery task it queues; the
worker takes it up again, so a worker's line names the request that caused it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("rfr_request_id", default=None)

# What a caller may send: short and plain, so a log line cannot be forged or flooded.
VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# The Celery message header that carries it.
TASK_HEADER = "rfr_request_id"


def from_header(value: str | None) -> str:
    """The caller's id when it is a plain one, else a new one."""
    if value and VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


@contextlib.contextmanager
def bound(value: str | None):
    """Log lines inside carry ``value`` as their request id (None: none)."""
    token = request_id.set(value)
    try:
        yield
    finally:
        request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (as ``request_id``, "-" when none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, and the
    traceback as "exception" when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
            "process": record.process,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestIdMiddleware:
    """Outermost: every line logged while the request runs carries its id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        value = from_header(request.headers.get("X-Request-ID"))
        request.request_id = value
        with bound(value):
            response = self.get_response(request)
        response["X-Request-ID"] = value
        return response


def add_task_header(headers: dict | None = None, **_kwargs) -> None:
    """Celery before_task_publish: a task queued in a request carries its id."""
    value = request_id.get()
    if value and headers is not None:
        headers[TASK_HEADER] = value


def _task_started(task=None, **_kwargs) -> None:
    value = getattr(task.request, TASK_HEADER, None) if task is not None else None
    task.request.rfr_token = request_id.set(value if value and VALID.fullmatch(str(value)) else None)


def _task_finished(task=None, **_kwargs) -> None:
    token = getattr(task.request, "rfr_token", None) if task is not None else None
    if token is not None:
        request_id.reset(token)


def connect_celery() -> None:
    from celery.signals import before_task_publish, task_postrun, task_prerun

    before_task_publish.connect(add_task_header, weak=False, dispatch_uid="rfr-request-id-publish")
    task_prerun.connect(_task_started, weak=False, dispatch_uid="rfr-request-id-start")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="rfr-request-id-end")
