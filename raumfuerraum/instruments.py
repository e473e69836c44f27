"""Figures each process counts as it works: requests by view, database and Redis errors,
bookings created. Read by GET /metrics (ops/metrics.py).

Under gunicorn every worker counts its own; prometheus-client's multiprocess mode keeps
the counts in files under PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py sets it and
empties it when the server starts), and a scrape adds up the files of all workers, so
whichever worker answers reports one total. Without that variable (runserver, tests in
one process) the figures stay in this process.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# The seconds a request may take, from a display poll to a year's report.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# The multiprocess mode has no *_created series; without them here too, both modes answer alike.
disable_created_metrics()

_registry = CollectorRegistry(auto_describe=True)

requests = Counter(
    "rfr_http_requests",
    "HTTP requests answered, by view (URL name) and status class.",
    ["view", "status"],
    registry=_registry,
)
latency = Histogram(
    "rfr_http_request_duration_seconds",
    "Time to answer an HTTP request, by view (URL name).",
    ["view"],
    buckets=BUCKETS,
    registry=_registry,
)
database_errors = Counter(
    "rfr_database_errors",
    "Requests that lost the database connection or met a read-only standby.",
    registry=_registry,
)
redis_errors = Counter(
    "rfr_redis_errors", "Redis calls that failed (the app then falls back).", registry=_registry
)
bookings_created = Counter(
    "rfr_bookings_created",
    "Bookings created by the web processes, by source (web, api, display).",
    ["source"],
    registry=_registry,
)


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """These figures in the text format: of all the workers, or of this process."""
    if multiprocess():
        summed = CollectorRegistry()
        MultiProcessCollector(summed)
        return generate_latest(summed)
    return generate_latest(_registry)
