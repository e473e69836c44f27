"""The system status page: /metrics in words, for admins who do not run Prometheus."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from . import status

OK, WARN, BAD = "ok", "warn", "bad"
# The oldest undelivered message may wait this long: the sweep runs every 30 s, and a few
# retries with backoff (15 s, 30 s, 60 s, ...) fit in.
OUTBOX_LATE_SECONDS = 600


@dataclass
class Check:
    level: str
    title: str
    text: str
    advice: str = ""

    @property
    def label(self) -> str:
        return {OK: _("OK"), WARN: _("Attention"), BAD: _("Problem")}[self.level]


def _minutes(seconds: float) -> int:
    return round(seconds / 60)


def checks(figures: status.Figures) -> list[Check]:
    """Each figure as a sentence, with what to do when it is not OK; problems first."""
    found = [_servers(figures)]
    if figures.database_up:
        found += [_outbox(figures, c) for c in sorted(figures.channels.values(), key=lambda c: c.name)]
        found += [_directory(figures), _displays(figures), _approvals(figures)]
    order = {BAD: 0, WARN: 1, OK: 2}
    return sorted((c for c in found if c is not None), key=lambda c: order[c.level])


def _servers(figures: status.Figures) -> Check:
    if not figures.database_up:
        return Check(
            BAD,
            _("Database"),
            _("PostgreSQL does not answer."),
            _("Check the database server and DATABASE_URL; /readyz answers 503 meanwhile."),
        )
    if not figures.redis_up:
        return Check(
            BAD,
            _("Redis"),
            _("Redis does not answer: no background tasks run, door displays read the database."),
            _("Start Redis or check REDIS_URL; the outbox delivers what waits once it is back."),
        )
    if figures.read_only:
        return Check(
            WARN,
            _("Read-only mode"),
            _("The app refuses changes (standby database or RFR_READ_ONLY)."),
            _("Expected on the DR site; elsewhere see the operations manual, section 2."),
        )
    return Check(OK, _("Database and Redis"), _("PostgreSQL and Redis answer."))


def _outbox(figures: status.Figures, channel: status.Channel) -> Check:
    title = _("Outbox: %(channel)s") % {"channel": channel.name}
    age = channel.oldest_age(figures.now)
    if channel.given_up:
        return Check(
            BAD,
            title,
            _("%(n)d messages were given up after a permanent failure.") % {"n": channel.given_up},
            _("Read their last error in the admin (outbox messages) and fix the channel's configuration."),
        )
    if channel.pending and age > OUTBOX_LATE_SECONDS:
        return Check(
            BAD,
            title,
            _("The outbox is backing up: %(n)d messages wait, the oldest for %(minutes)d minutes.")
            % {"n": channel.pending, "minutes": _minutes(age)},
            _(
                "Check that the Celery worker and beat run; if deliveries fail, "
                "their last error in the admin says why."
            ),
        )
    if channel.retrying:
        return Check(
            WARN,
            title,
            _("%(n)d messages failed at least once and will be tried again.") % {"n": channel.retrying},
            _("Read their last error in the admin (outbox messages)."),
        )
    return Check(OK, title, _("%(n)d messages waiting.") % {"n": channel.pending})


def _directory(figures: status.Figures) -> Check | None:
    if not figures.directory_configured:
        return None
    title = _("Directory sync")
    interval = settings.CELERY_BEAT_SCHEDULE.get("directory-sync", {}).get("schedule", 900.0)
    age = figures.directory_age()
    advice = _("The log rfr.directory says why; check the LDAP server and that Celery beat runs.")
    if age is None:
        return Check(BAD, title, _("The directory sync has never finished."), advice)
    if age > 3 * interval:
        return Check(
            BAD,
            title,
            _("The directory sync has stopped: it last finished %(minutes)d minutes ago.")
            % {"minutes": _minutes(age)},
            advice,
        )
    return Check(OK, title, _("Last finished %(minutes)d minutes ago.") % {"minutes": _minutes(age)})


def _displays(figures: status.Figures) -> Check | None:
    total = figures.displays_online + figures.displays_offline
    if not total:
        return None
    title = _("Door displays")
    text = _("%(online)d of %(total)d online.") % {"online": figures.displays_online, "total": total}
    if figures.displays_offline:
        return Check(
            WARN,
            title,
            text,
            _("The door displays page lists the offline ones; check their power and network."),
        )
    return Check(OK, title, text)


def _approvals(figures: status.Figures) -> Check:
    title = _("Booking requests")
    if figures.approvals_overdue:
        return Check(
            BAD,
            title,
            _("%(n)d requests are past their decision deadline and have not expired.")
            % {"n": figures.approvals_overdue},
            _("Celery beat expires them within a minute: check that it runs."),
        )
    return Check(OK, title, _("%(n)d requests waiting for a decision.") % {"n": figures.approvals_pending})


@never_cache
@staff_member_required
def system_status(request):
    figures = status.collect()
    return render(
        request, "ops/status.html", {"checks": checks(figures), "figures": figures, "nav": "status"}
    )
