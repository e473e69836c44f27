"""Mirror the directory: create and update users, refresh roles, deactivate leavers, size mail groups.

Full runs read every person; incremental runs read only those changed after the
high-water mark (uSNChanged, modifyTimestamp) plus a list of ids with roles, because
neither a removed account nor a group change touches the person's own entry. A run is
idempotent and may run beside sign-ins (both go through accounts.upsert_person); two
runs at once are prevented by a lease on the sync's state row (works through PgBouncer).
Every run also rewrites the distribution lists (groups with a mail address) and their
member counts, which tell a booking's meeting size where an attendee is such a list.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from ..base import Directory, IntegrationError, Person
from .accounts import UsernameTaken, create_people, deactivate_leaver, update_roles, upsert_person
from .conf import DirectorySettings
from .models import DirectoryAccount, MailGroup, SyncState

log = logging.getLogger("rfr.directory")

# One sync at a time across all app servers: a lease on the state row, taken and given
# back in transactions of their own. A sync that dies keeps it until it runs out.
LEASE = timedelta(hours=1)
PROGRESS_EVERY = 1000
BATCH = 500  # new people created per statement batch
# A directory that suddenly lists far fewer people is more likely misconfigured (a
# wrong base or filter) than emptied; such a run deactivates nobody unless forced.
MASS_LEAVE_SHARE = 0.5
MASS_LEAVE_MIN = 10


class SyncBusy(Exception):
    """Another sync holds the lock."""


@dataclass
class SyncResult:
    mode: str = "full"
    seen: int = 0
    created: int = 0
    updated: int = 0
    reactivated: int = 0
    unchanged: int = 0
    roles_changed: int = 0
    deactivated: int = 0
    conflicts: int = 0
    bookings_cancelled: int = 0
    bookings_reported: int = 0
    mail_groups: int = 0
    seconds: float = 0.0
    mark: str = ""
    conflict_names: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.mode} sync: {self.seen} read, {self.created} created, {self.updated} updated, "
            f"{self.reactivated} reactivated, {self.unchanged} unchanged, "
            f"{self.roles_changed} roles changed, {self.deactivated} deactivated, "
            f"{self.conflicts} conflicts; bookings of leavers: "
            f"{self.bookings_cancelled} cancelled, {self.bookings_reported} reported; "
            f"{self.mail_groups} distribution lists; {self.seconds:.1f} s"
        )


class Known(NamedTuple):
    """What the database holds of one directory user, in Person's terms."""

    username: str
    first_name: str
    last_name: str
    email: str
    is_active: bool
    department: str
    phone: str
    roles: list[str]
    left_at: datetime | None

    @property
    def current(self) -> bool:
        return self.is_active and self.left_at is None


def _snapshot() -> dict[str, Known]:
    """Every directory user as the database holds them, to skip the unchanged without a write."""
    rows = DirectoryAccount.objects.values_list(
        "external_id",
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "user__is_active",
        "department",
        "phone",
        "roles",
        "left_at",
    )
    return {row[0]: Known(*row[1:]) for row in rows.iterator(chunk_size=2000)}


def _as_known(person: Person) -> Known:
    return Known(
        person.username,
        person.first_name,
        person.last_name,
        person.email,
        True,
        person.department,
        person.phone,
        sorted(person.roles),
        None,
    )


def _upsert(person: Person, result: SyncResult, now: datetime) -> None:
    try:
        _user, status = upsert_person(person, now=now)
    except UsernameTaken:
        result.conflicts += 1
        result.conflict_names.append(person.username)
        log.warning("directory sync: the local account %r holds this directory name", person.username)
    else:
        setattr(result, status, getattr(result, status) + 1)


def _create(people: list[Person], result: SyncResult, now: datetime) -> None:
    if not people:
        return
    try:
        create_people(people, now=now)
    except IntegrityError:
        # Someone in the batch exists after all (a sign-in meanwhile, a local account
        # holding the name): one by one, each with its own answer.
        for person in people:
            _upsert(person, result, now)
    else:
        result.created += len(people)


def sync_directory(
    *,
    directory: Directory,
    conf: DirectorySettings,
    full: bool = False,
    force: bool = False,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> SyncResult:
    """One sync run; raises SyncBusy, or IntegrationError (nothing deactivated then)."""
    SyncState.objects.get_or_create(name="default")
    # Database time, so the app servers' clocks do not matter.
    taken = SyncState.objects.filter(
        Q(running_until__isnull=True) | Q(running_until__lt=Now()), name="default"
    ).update(running_until=Now() + LEASE)
    if not taken:
        raise SyncBusy("another directory sync is running")
    try:
        return _run(directory=directory, conf=conf, full=full, force=force, now=now, progress=progress)
    finally:
        SyncState.objects.filter(name="default").update(running_until=None)


def _run(*, directory, conf, full, force, now, progress) -> SyncResult:
    started = time.monotonic()
    now = now or timezone.now()
    say = progress or (lambda _text: None)
    state, _created = SyncState.objects.get_or_create(name="default")
    full_due = state.last_full_at is None or now - state.last_full_at >= timedelta(hours=conf.full_sync_hours)
    incremental = not full and not full_due and directory.can_resume(state.mark)
    result = SyncResult(mode="incremental" if incremental else "full")
    mark = state.mark if incremental else ""
    say(f"{result.mode} sync started" + (f" after mark {state.mark}" if incremental else ""))

    known = _snapshot()
    roster: dict[str, frozenset[str]] = {}
    new: list[Person] = []
    for person in directory.people(since=state.mark if incremental else ""):
        result.seen += 1
        roster[person.external_id] = person.roles
        mark = directory.later_mark(mark, person.mark)
        if person.external_id not in known:
            new.append(person)
            if len(new) >= BATCH:
                _create(new, result, now)
                new = []
        elif known[person.external_id] == _as_known(person):
            result.unchanged += 1
        else:
            _upsert(person, result, now)
        if result.seen % PROGRESS_EVERY == 0:
            say(f"  {result.seen} read")
    _create(new, result, now)

    changed = set(roster)
    if incremental:
        # Everyone's id and roles, to find leavers and group changes.
        roster = directory.roster()
    # Everyone current who this run has not written yet.
    active = {ext_id: row.roles for ext_id, row in known.items() if row.current and ext_id not in changed}
    leavers = [ext_id for ext_id in active if ext_id not in roster]
    current = sum(1 for row in known.values() if row.current)
    if leavers and not force and len(leavers) >= MASS_LEAVE_MIN and len(leavers) > MASS_LEAVE_SHARE * current:
        raise IntegrationError(
            f"the directory no longer lists {len(leavers)} of {current} accounts; "
            "check RFR_LDAP_USER_SEARCH_BASE and RFR_LDAP_USER_FILTER, or run sync_directory --force",
            permanent=True,
        )
    for ext_id, roles in active.items():
        if ext_id in roster and sorted(roles) != sorted(roster[ext_id]):
            result.roles_changed += update_roles(external_id=ext_id, roles=roster[ext_id])
    for ext_id in leavers:
        done = deactivate_leaver(external_id=ext_id, now=now, cancel_bookings=conf.cancel_bookings_of_leavers)
        if done is not None:
            result.deactivated += 1
            result.bookings_cancelled += done["cancelled"]
            result.bookings_reported += done["reported"]

    result.mail_groups = sync_mail_groups(directory, now=now)

    result.mark = mark
    result.seconds = time.monotonic() - started
    state.mark = mark
    state.last_run_at = now
    if not incremental:
        state.last_full_at = now
    state.last_result = {k: v for k, v in asdict(result).items() if k != "conflict_names"}
    state.save()
    say(result.summary())
    log.info("directory %s", result.summary())
    return result


def sync_mail_groups(directory: Directory, *, now: datetime) -> int:
    """Store every distribution list with its member count; those gone are removed. Returns how many.

    Read in full on every run: a group's membership changes touch neither its members'
    entries nor a mark, and one paged search over the groups is cheap.
    """
    groups = {group.external_id: group for group in directory.mail_groups()}
    with transaction.atomic():
        MailGroup.objects.exclude(external_id__in=list(groups)).delete()
        MailGroup.objects.bulk_create(
            [
                MailGroup(
                    external_id=g.external_id, email=g.email, name=g.name, members=g.members, synced_at=now
                )
                for g in groups.values()
            ],
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["external_id"],
            update_fields=["email", "name", "members", "synced_at"],
        )
    return len(groups)
