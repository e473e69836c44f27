"""Production gunicorn configuration: gthread workers sized from the machine.

Every value can be overridden from the environment (RFR_WEB_*), so the same file
serves a 2-core VM and a 16-core one.
"""

import multiprocessing
import os

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
