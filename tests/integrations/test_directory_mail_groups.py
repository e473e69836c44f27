"""Distribution lists from the real slapd: the sync stores their member counts, the report reads them.

A booking's attendee that is a directory group with a mail address counts with its members
(the "directory's meeting size") in the right-sizing report.
"""

from __future__ import annotations

import itertools
import os
import zoneinfo
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.directory.login import ldap_available

if not ldap_available():
    WHY = "python-ldap is not installed: `make install` adds it where libldap2-dev and libsasl2-dev exist"
    if os.environ.get("CI"):
        raise RuntimeError(WHY)  # CI must run these, never skip them
    pytest.skip(WHY, allow_module_level=True)

import ldap

from integrations.directory.adapter import LdapDirectory
from integrations.directory.models import MailGroup
from integrations.directory.sync import sync_directory
from reports.utilisation import sizes
from tests import factories

from . import slapd as sl
from .conftest import group_dn, people_dn

_numbers = itertools.count(1)
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 3, 23)


def mail_group(ou: str, cn: str, members: list[str], mail: str = "") -> str:
    # groupOfNames has no mail attribute; extensibleObject (core schema) allows it, as a
    # mail-enabled group in Active Directory has one.
    lines = [f"dn: cn={cn},ou={ou},{sl.SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}"]
    if mail:
        lines += ["objectClass: extensibleObject", f"mail: {mail}"]
    lines += [f"member: {m}" for m in members]
    return "\n".join(lines) + "\n"


@pytest.fixture
def lists(slapd, use_directory):
    """Five people; Team-Spree (mail) = p1, p2 and Kern; Kern (no mail) = p2, p3, p4 and Team-Spree
    (a cycle); Alle (mail) = Team-Spree and p5. So Team-Spree reaches 4 people, Alle 5."""
    ou = f"lists{next(_numbers)}"
    p = [people_dn(f"{ou}-p{i}", ou) for i in range(1, 6)]
    entries = [sl.ou_ldif(ou)]
    entries += [sl.person_ldif(ou, f"{ou}-p{i}", "Person", f"P{i}") for i in range(1, 6)]
    entries += [
        mail_group(ou, "Team-Spree", [p[0], p[1], group_dn("Kern", ou)], mail=f"Team-Spree.{ou}@firma.de"),
        mail_group(ou, "Kern", [p[1], p[2], p[3], group_dn("Team-Spree", ou)]),
        mail_group(ou, "Alle", [group_dn("Team-Spree", ou), p[4]], mail=f"alle.{ou}@firma.de"),
    ]
    slapd.ldapadd("\n".join(entries))
    base = f"ou={ou},{sl.SUFFIX}"
    conf = use_directory(
        RFR_LDAP_USER_SEARCH_BASE=base,
        RFR_LDAP_GROUP_SEARCH_BASE=base,
        RFR_LDAP_GROUP_STAFF="",
        RFR_LDAP_GROUP_ROOM_MANAGERS="",
        RFR_LDAP_GROUP_FACILITY_ADMINS="",
        RFR_LDAP_GROUP_DISPLAY_ADMINS="",
    )
    return ou, p, conf


def run_sync(conf):
    directory = LdapDirectory(conf)
    try:
        return sync_directory(directory=directory, conf=conf, full=True)
    finally:
        directory.client.close()


def stored() -> dict[str, int]:
    return dict(MailGroup.objects.values_list("name", "members"))


def test_the_sync_stores_each_lists_people_nested_groups_resolved_each_once(lists):
    ou, _p, conf = lists

    result = run_sync(conf)

    assert result.mail_groups == 2 and "2 distribution lists" in result.summary()
    assert stored() == {"Team-Spree": 4, "Alle": 5}  # Kern has no mail address: not a list
    assert MailGroup.objects.get(name="Team-Spree").email == f"team-spree.{ou}@firma.de"  # lower case


def test_the_next_run_follows_membership_changes_and_removes_lists_gone(slapd, lists):
    ou, p, conf = lists
    run_sync(conf)
    slapd.modify(group_dn("Team-Spree", ou), [(ldap.MOD_DELETE, "member", p[0])])
    slapd.delete(group_dn("Alle", ou))

    run_sync(conf)

    assert stored() == {"Team-Spree": 3}


@pytest.mark.django_db
def test_the_right_sizing_report_counts_a_list_with_its_members(lists, alice):
    ou, _p, conf = lists
    room = factories.room(
        factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))), capacity=12
    )

    def monday(hour: int) -> datetime:
        return datetime(MONDAY.year, MONDAY.month, MONDAY.day, hour, tzinfo=BERLIN)

    # Alice and the list (4 people); alice, one guest and the list in capitals (6); alice and a guest (2).
    factories.booking(room, alice, monday(9), attendees=[f"team-spree.{ou}@firma.de"])
    factories.booking(room, alice, monday(11), attendees=["gast@example.com", f"TEAM-SPREE.{ou}@FIRMA.DE"])
    factories.booking(room, alice, monday(14), attendees=["gast@example.com"])
    period = {"room_ids": [room.pk], "start": MONDAY, "end": MONDAY + timedelta(days=7)}

    before = sizes(**period)[room.pk]
    run_sync(conf)
    after = sizes(**period)[room.pk]

    # Without the directory every address is one person: 2, 3, 2 → median 2, too big (2 × 3 < 12).
    assert (before.median_people, before.oversized) == (Decimal("2.0"), True)
    # With it: 5, 6, 2 → median 5, no longer under a third of the 12 seats.
    assert (after.meetings, after.median_people, after.oversized) == (3, Decimal("5.0"), False)
