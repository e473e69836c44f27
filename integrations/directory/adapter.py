"""The company directory behind the Directory Protocol: LDAP entries in, Person records out.

Raw entries stay here. Marks (where a sync left off) are this adapter's business:
``<server>#<uSNChanged>`` for Active Directory, whose update numbers are counted per
domain controller, or the entry's ``modifyTimestamp`` for OpenLDAP, whose timestamps
replicas share.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import ldap.filter

from ..base import MailGroup, Person
from .client import DirectoryClient, normalize_dn
from .conf import DirectorySettings

# Clocks of app and directory servers agree within this (Kerberos allows five minutes).
SETTLED = timedelta(minutes=5)
# Field lengths of django.contrib.auth's User, and of DirectoryAccount.
LIMITS = {"first_name": 150, "last_name": 150, "email": 254, "department": 200, "phone": 50}


def external_id(attr: str, value: bytes) -> str:
    """objectGUID is 16 bytes in Microsoft's byte order; anything else is text already."""
    if attr.lower() == "objectguid" and len(value) == 16:
        return str(uuid.UUID(bytes_le=value))
    try:
        return value.decode()
    except UnicodeDecodeError:
        return value.hex()


def first(entry: dict[str, list[bytes]], attr: str) -> str:
    # python-ldap keys entries as the server spells the attribute; compare case-blind.
    for key, values in entry.items():
        if key.lower() == attr.lower() and values:
            return values[0].decode("utf-8", "replace").strip()
    return ""


class LdapDirectory:
    """Implements integrations.base.Directory on one DirectoryClient."""

    def __init__(self, conf: DirectorySettings, client: DirectoryClient | None = None):
        self.conf = conf
        self.client = client or DirectoryClient(conf)
        self._role_members: dict[str, set[str]] | None = None
        self._server: str | None = None

    @property
    def uses_usn(self) -> bool:
        return self.conf.change_attribute.lower() == "usnchanged"

    def attributes(self) -> list[str]:
        attrs = [self.conf.id_attribute, self.conf.login_attribute, *self.conf.attributes.values()]
        if self.conf.change_attribute:
            attrs.append(self.conf.change_attribute)
        return attrs

    # The Protocol.

    def people(self, *, since: str = "") -> Iterator[Person]:
        """Everyone who may sign in, or those changed after ``since``; raises IntegrationError."""
        filterstr = self.conf.user_filter
        if since and self.conf.change_attribute:
            filterstr = f"(&{filterstr}{self._changed_since(since)})"
        roles = self.role_members()
        for dn, entry in self.client.search(self.conf.user_search_base, filterstr, self.attributes()):
            person = self.person(dn, entry, roles_of(normalize_dn(dn), roles))
            if person is not None:
                yield person

    def roster(self) -> dict[str, frozenset[str]]:
        """External id -> roles of everyone who may sign in now; raises IntegrationError."""
        roles = self.role_members()
        roster = {}
        for dn, entry in self.client.search(
            self.conf.user_search_base, self.conf.user_filter, [self.conf.id_attribute]
        ):
            if value := _values(entry, self.conf.id_attribute):
                roster[external_id(self.conf.id_attribute, value[0])] = roles_of(normalize_dn(dn), roles)
        return roster

    def later_mark(self, a: str, b: str) -> str:
        """The later of two marks; an empty one is earlier than any."""
        if not a or not b:
            return a or b
        if self.uses_usn:
            return max(a, b, key=lambda mark: int(mark.rpartition("#")[2] or 0))
        return max(a, b)

    def can_resume(self, mark: str) -> bool:
        """Update numbers only go on where they were counted; timestamps anywhere."""
        if not mark or not self.conf.change_attribute:
            return False
        if self.uses_usn:
            return mark.rpartition("#")[0] == self.server()
        return True

    def mail_groups(self) -> Iterator[MailGroup]:
        """Every group with a mail address and how many people it reaches; raises IntegrationError.

        One paged search over the groups, the nesting then walked in memory (as
        DirectoryClient._expand does): a member that is itself a group counts with its
        members, each person once, a cycle ends. Active Directory returns at most 1,500
        values of a large group's ``member`` per read (range retrieval), so such a group
        counts 1,500 until that is read in ranges.
        """
        member_attr = self.conf.member_attribute
        mail_attr = self.conf.attributes.get("email", "mail")
        attrs = [self.conf.id_attribute, mail_attr, "cn", member_attr]
        tree: dict[str, list[str]] = {}
        found: list[tuple[str, str, str, str]] = []  # dn, id, mail, name
        for dn, entry in self.client.search(self.conf.group_search_base, self.conf.group_filter, attrs):
            key = normalize_dn(dn)
            tree[key] = [normalize_dn(m.decode()) for m in _values(entry, member_attr)]
            mail = first(entry, mail_attr).lower()
            ids = _values(entry, self.conf.id_attribute)
            if mail and ids:
                found.append((key, external_id(self.conf.id_attribute, ids[0]), mail, first(entry, "cn")))
        for key, ext_id, mail, name in found:
            yield MailGroup(
                external_id=ext_id, email=mail[:254], name=name[:200], members=_people_in(key, tree)
            )

    # For sign-in and the sync.

    def person(self, dn: str, entry: dict[str, list[bytes]], roles: frozenset[str]) -> Person | None:
        """A Person from an entry; None when the entry lacks an id or a login name."""
        ids = _values(entry, self.conf.id_attribute)
        username = first(entry, self.conf.login_attribute).lower()
        if not ids or not username:
            return None
        fields = {
            key: first(entry, attr)[: LIMITS[key]]
            for key, attr in self.conf.attributes.items()
            if key in LIMITS
        }
        mark = first(entry, self.conf.change_attribute) if self.conf.change_attribute else ""
        if mark and self.uses_usn:
            mark = f"{self.server()}#{mark}"
        return Person(
            external_id=external_id(self.conf.id_attribute, ids[0]),
            username=username[:150],
            roles=roles,
            mark=mark,
            **fields,
        )

    def person_at(self, dn: str) -> Person | None:
        """The person at ``dn`` with roles fresh from the directory (sign-in); raises IntegrationError."""
        entry = self.client.read(dn, self.attributes(), self.conf.user_filter)
        if entry is None:
            return None
        groups = self.client.role_groups_of(dn, [g for dns in self.conf.role_groups.values() for g in dns])
        roles = frozenset(
            role for role, dns in self.conf.role_groups.items() if groups & {normalize_dn(d) for d in dns}
        )
        return self.person(dn, entry, roles)

    def role_members(self) -> dict[str, set[str]]:
        """Role -> normalized DNs of its members, nested groups resolved; read once per sync."""
        if self._role_members is None:
            self._role_members = {
                role: self.client.members_of(dns) for role, dns in self.conf.role_groups.items()
            }
        return self._role_members

    def server(self) -> str:
        """Which domain controller counts the update numbers (its dsServiceName)."""
        if self._server is None:
            dse = self.client.root_dse(["dsServiceName"])
            self._server = first(dse, "dsServiceName").lower() or self.conf.uri
        return self._server

    def _changed_since(self, mark: str) -> str:
        attr = self.conf.change_attribute
        if self.uses_usn:
            return f"({attr}>={int(mark.rpartition('#')[2]) + 1})"
        value = ldap.filter.escape_filter_chars(mark)
        if _older_than(mark, SETTLED):
            # That second is over on every clock: nothing can join it any more.
            return f"(!({attr}<={value}))"
        # Inclusive: a change in the same second as the mark is read again, never missed.
        return f"({attr}>={value})"


def _older_than(mark: str, age: timedelta) -> bool:
    """Whether a generalizedTime mark (20261124221500Z, fractions allowed) lies ``age`` back."""
    try:
        stamp = datetime.strptime(mark[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return False
    return datetime.now(UTC) - stamp > age


def _people_in(group: str, tree: dict[str, list[str]]) -> int:
    """How many distinct non-group members ``group`` reaches through its nested groups."""
    people: set[str] = set()
    seen: set[str] = set()
    stack = [group]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for member in tree.get(current, []):
            if member in tree:
                stack.append(member)
            else:
                people.add(member)
    return len(people)


def roles_of(dn: str, role_members: dict[str, set[str]]) -> frozenset[str]:
    return frozenset(role for role, members in role_members.items() if dn in members)


def _values(entry: dict[str, list[bytes]], attr: str) -> list[bytes]:
    for key, values in entry.items():
        if key.lower() == attr.lower():
            return values
    return []
