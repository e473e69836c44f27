"""GET /metrics: the Prometheus text format, for the loopback address only.

The health figures come from ops/status.py at scrape time (a custom collector), so every
gunicorn worker answers the same numbers; the counts each process keeps (requests by
view, errors, bookings created) come from raumfuerraum/instruments.py, summed over the
workers. Names and meanings are documented in docs/operations.md, with example alert
rules and a Grafana dashboard in deploy/.
"""

from __future__ import annotations

import ipaddress

from django.http import HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

from raumfuerraum import instruments

from . import status

# A request that passed through a proxy names its client in one of these; HAProxy runs
# on the same host and connects from 127.0.0.1, so the address alone proves nothing.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


class StatusCollector(Collector):
    def collect(self):
        figures = status.collect()
        now = figures.now
        info = InfoMetricFamily("rfr", "The release that answers.")
        info.add_metric([], {"version": figures.version})
        yield info
        yield _gauge("rfr_database_up", "1 when PostgreSQL answered this scrape.", figures.database_up)
        yield _gauge("rfr_redis_up", "1 when Redis answered this scrape.", figures.redis_up)
        yield _gauge(
            "rfr_read_only", "1 when the app refuses writes (standby or RFR_READ_ONLY).", figures.read_only
        )
        if not figures.database_up:
            return  # no figure is better than a zero that looks like good news

        channels = sorted(figures.channels.values(), key=lambda c: c.name)
        families = {
            "pending": GaugeMetricFamily(
                "rfr_outbox_pending_messages",
                "Outbox messages not yet delivered, per channel.",
                labels=["channel"],
            ),
            "retrying": GaugeMetricFamily(
                "rfr_outbox_retrying_messages",
                "Undelivered outbox messages that failed at least once, per channel.",
                labels=["channel"],
            ),
            "age": GaugeMetricFamily(
                "rfr_outbox_oldest_pending_age_seconds",
                "Age of the oldest undelivered outbox message, per channel (0 when none).",
                labels=["channel"],
            ),
            "given_up": GaugeMetricFamily(
                "rfr_outbox_given_up_messages",
                "Outbox messages given up after a permanent failure, per channel.",
                labels=["channel"],
            ),
        }
        for c in channels:
            families["pending"].add_metric([c.name], c.pending)
            families["retrying"].add_metric([c.name], c.retrying)
            families["age"].add_metric([c.name], c.oldest_age(now))
            families["given_up"].add_metric([c.name], c.given_up)
        yield from families.values()

        yield _gauge(
            "rfr_directory_sync_configured",
            "1 when a directory (RFR_LDAP_SERVER_URI) is synchronised.",
            figures.directory_configured,
        )
        if figures.directory_last_success_at is not None:
            yield _gauge(
                "rfr_directory_sync_last_success_timestamp_seconds",
                "When the last directory sync finished (Unix time).",
                figures.directory_last_success_at.timestamp(),
            )
            yield _gauge(
                "rfr_directory_sync_age_seconds",
                "Seconds since the last directory sync finished.",
                figures.directory_age(),
            )

        displays = GaugeMetricFamily(
            "rfr_displays", "Door displays by state (online: polled recently).", labels=["state"]
        )
        displays.add_metric(["online"], figures.displays_online)
        displays.add_metric(["offline"], figures.displays_offline)
        displays.add_metric(["revoked"], figures.displays_revoked)
        yield displays

        yield _gauge(
            "rfr_approvals_pending", "Booking requests waiting for a decision.", figures.approvals_pending
        )
        yield _gauge(
            "rfr_approvals_overdue",
            "Booking requests past their decision deadline and not yet expired (beat not running?).",
            figures.approvals_overdue,
        )
        bookings = GaugeMetricFamily(
            "rfr_bookings_upcoming", "Active bookings that have not ended, by status.", labels=["status"]
        )
        for name, count in sorted(figures.upcoming_by_status.items()):
            bookings.add_metric([name], count)
        yield bookings


def _gauge(name: str, documentation: str, value) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value))


_registry = CollectorRegistry(auto_describe=False)
_registry.register(StatusCollector())


def from_loopback(request) -> bool:
    """Sent by this host itself, not passed on by a proxy on it."""
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


@never_cache
@require_GET
def metrics(request):
    if not from_loopback(request):
        return HttpResponseForbidden(
            "/metrics answers the loopback address only.\n", content_type="text/plain"
        )
    body = generate_latest(_registry) + instruments.exposition()
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
