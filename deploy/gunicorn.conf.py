"""Production gunicorn configuration: gthread workers sized from the machine.

Every value can be overridden from the environment (RFR_WEB_*), so the same file
serves a 2-core VM and a 16-core one.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

_cores = multiprocessing.cpu_count()

bind = os.environ.get("RFR_WEB_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
worker_class = "gthread"
# Django holds the GIL while it renders, so processes carry the CPU work and threads
# cover the time spent waiting on PostgreSQL.
workers = int(os.environ.get("RFR_WEB_WORKERS", _cores + 1))
threads = int(os.environ.get("RFR_WEB_THREADS", 8))
# Connections waiting for a thread; a burst of door displays queues here instead of failing.
backlog = int(os.environ.get("RFR_WEB_BACKLOG", 2048))
keepalive = int(os.environ.get("RFR_WEB_KEEPALIVE", 5))
timeout = int(os.environ.get("RFR_WEB_TIMEOUT", 30))
# On TERM or an upgrade a worker finishes what it has before it exits.
graceful_timeout = int(os.environ.get("RFR_WEB_GRACEFUL_TIMEOUT", 30))
max_requests = int(os.environ.get("RFR_WEB_MAX_REQUESTS", 20000))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("RFR_WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("RFR_WEB_LOG_LEVEL", "info")
proc_name = "raumfuerraum"
forwarded_allow_ips = os.environ.get("RFR_WEB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn answers a request it cannot take with its own HTML page, before Django. Behind
# HAProxy (deploy/haproxy/raumfuerraum.cfg) the proxy refuses first, in JSON: a request
# line over 4000 bytes, more than 90 header fields, and anything over its 16 kB buffer, so
# a single header field may be as long as that buffer here (gunicorn's default: 8190).
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 16384

# --- metrics (raumfuerraum/instruments.py) -------------------------------------------
# Each worker writes its counts to files here; /metrics adds up all of them, so every
# worker answers the same totals. Set before the workers start (they inherit it).
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR", str(Path(os.environ.get("RFR_DATA_DIR", "var")).resolve() / "run" / "metrics")
)


def on_starting(server):
    """Start the counts at zero, as a fresh process would; an upgrade's new master (beside
    the old one, GUNICORN_PID set) keeps them, so the totals run on across releases."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    if "GUNICORN_PID" not in os.environ:
        shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A worker that exits leaves its counts (counters keep adding up); only its live gauges go."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# --- upgrades (deploy/upgrade.py, docs/operations.md) ---------------------------------
# The master's pid file: the upgrade signals the master named in it, and systemd follows
# the new master through it when the old one exits.
pidfile = os.environ.get("RFR_WEB_PIDFILE") or None


def _warm_up() -> None:
    """Load what Django loads lazily, then freeze it out of the garbage collector's way.

    Otherwise a fresh worker (after max_requests, say) imports every URLconf on its first
    request, 0.2 s of CPU while its connections wait; and each full collection walks the
    ~120,000 objects of the loaded app, which gc.freeze() moves to a generation it skips
    (docs/performance.md).
    """
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - evaluated for the imports it triggers
    gc.freeze()


def post_worker_init(worker):
    """Gate the workers of a release on trial: serve only once this release's /readyz is 200.

    USR2 starts the new release's master beside the old one on the same listening socket
    (gunicorn marks it with GUNICORN_PID until the old master is gone). A worker of it
    that is not ready in RFR_UPGRADE_READY_TIMEOUT seconds raises before it accepts a
    connection: gunicorn stops that master as failed to boot, and the old release, which
    never stopped accepting, serves on alone. Outside an upgrade this does nothing, so a
    database outage never stops a routine worker restart.
    """
    _warm_up()
    # A stopping worker (upgrade, HUP, max_requests) closes its idle kept-alive
    # connections after gunicorn's 2 s linger; a client whose next request crosses that
    # close gets a reset (measured: 29 of 6,221 requests under load). Closing them at
    # their own keep-alive timeout instead is what a client meets every day anyway.
    from gunicorn.workers import gthread

    gthread.STOP_KEEPALIVE_LINGER = keepalive
    if "GUNICORN_PID" not in os.environ:
        return
    import io
    import time

    from django.conf import settings
    from django.db import connections

    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"]
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/readyz",
        "SERVER_NAME": hosts[0] if hosts else "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": hosts[0] if hosts else "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    deadline = time.monotonic() + int(os.environ.get("RFR_UPGRADE_READY_TIMEOUT", 20))
    statuses: list[str] = []
    while True:
        statuses.clear()
        response = worker.wsgi(dict(environ), lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(response)
        getattr(response, "close", lambda: None)()
        connections.close_all()
        if statuses and statuses[0].startswith("200"):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"release not ready: /readyz {statuses[:1]} {body[:200]!r}")
        worker.notify()  # a slow start is not a hung worker
        time.sleep(0.5)
