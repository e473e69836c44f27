"""Retention: each rule an admin set (privacy.RetentionRule) applied, or only counted.

- visitors: their personal data emptied N days after the visit ended (visitors.retention);
- leavers: bookings of people who left (inactive accounts) pseudonymised N days after the
  booking ended: title and attendees cleared, the organizer replaced by the placeholder,
  room and time kept for the room's history and the reports;
- audit: the details (``changes``) of booking audit entries older than N days emptied,
  keeping what happened, to which booking, by whom and when.

Days are elapsed time (24 hours each), so a daylight-saving change moves nothing. A booking
counts from its end: one that runs across the limit is not due until it has ended N days
ago. Each real run writes one privacy audit entry with its counts; a dry run writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F

from bookings.models import Booking, BookingEvent
from bookings.services.audit import empty_details
from visitors.retention import erase_visitor_data

from .erasure import PLACEHOLDER_USERNAME, placeholder
from .models import PrivacyEvent, RetentionRule

Kind = RetentionRule.Kind


@dataclass
class Run:
    dry_run: bool
    # kind -> {"days": N, "due": count, ...}; a kind whose rule is switched off is absent.
    done: dict[str, dict] = field(default_factory=dict)


def _leavers_due(*, now: datetime, days: int):
    leavers = get_user_model().objects.filter(is_active=False).exclude(username=PLACEHOLDER_USERNAME)
    return Booking.objects.filter(organizer__in=leavers, span__endswith__lte=now - timedelta(days=days))


def _audit_due(*, now: datetime, days: int):
    return BookingEvent.objects.filter(at__lte=now - timedelta(days=days)).exclude(changes={})


def _visitors(rule: RetentionRule, now: datetime, dry_run: bool) -> dict:
    erased = erase_visitor_data(now=now, days=rule.days, dry_run=dry_run)
    return {"visitors": erased.visitors, "visits": erased.visits}


def _leavers(rule: RetentionRule, now: datetime, dry_run: bool) -> dict:
    due = _leavers_due(now=now, days=rule.days)
    ids = list(due.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
    if ids and not dry_run:
        Booking.objects.filter(pk__in=ids).update(
            organizer=placeholder(), title="", attendees=[], version=F("version") + 1, updated_at=now
        )
        BookingEvent.objects.bulk_create(
            BookingEvent(
                booking_id=pk,
                kind=BookingEvent.Kind.UPDATED,
                at=now,
                changes={"retention": "organizer left", "days": rule.days},
            )
            for pk in ids
        )
    return {"bookings": len(ids)}


def _audit(rule: RetentionRule, now: datetime, dry_run: bool) -> dict:
    due = _audit_due(now=now, days=rule.days)
    if dry_run:
        return {"entries": due.count()}
    # The one change the audit log's trigger lets through: the details emptied.
    count = empty_details(due)
    return {"entries": count}


APPLY = {Kind.VISITORS: _visitors, Kind.LEAVERS: _leavers, Kind.AUDIT: _audit}


@transaction.atomic
def apply_retention(*, now: datetime, dry_run: bool = False) -> Run:
    """Apply (or with ``dry_run`` only count) every rule that is switched on; raises nothing."""
    run = Run(dry_run=dry_run)
    # Locked, so the beat and a command at the same moment run one after the other.
    rules = list(RetentionRule.objects.select_for_update().filter(enabled=True).order_by("kind"))
    for rule in rules:
        run.done[rule.kind] = {"days": rule.days, **APPLY[Kind(rule.kind)](rule, now, dry_run)}
    if dry_run:
        return run
    for rule in rules:
        rule.last_run_at, rule.last_result = now, run.done[rule.kind]
        rule.save(update_fields=["last_run_at", "last_result"])
    PrivacyEvent.objects.create(kind=PrivacyEvent.Kind.RETENTION, at=now, changes=run.done)
    return run
