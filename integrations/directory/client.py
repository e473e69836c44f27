"""Talks LDAP to the directory: connections, paged searches, nested group membership.

Every wait is bounded by RFR_LDAP_TIMEOUT: OPT_NETWORK_TIMEOUT for each connect and
OPT_TIMEOUT for each answer, so a directory that is down or hangs costs a sign-in that
long and no longer. Errors leave as IntegrationError; entries leave as (dn, raw
attributes) only towards adapter.py, which turns them into Person records.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

import ldap
import ldap.dn
import ldap.filter
from ldap.controls import SimplePagedResultsControl
from ldap.ldapobject import LDAPObject

from ..base import IntegrationError
from .conf import DirectorySettings

log = logging.getLogger("rfr.directory")

# Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nesting.
IN_CHAIN = "1.2.840.113556.1.4.1941"
# A cycle of nested groups must not loop; deeper real nesting is unheard of.
MAX_NESTING = 32
# Errors that mean "could not ask", as opposed to "asked and got no".
UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE, ldap.BUSY)

Entry = tuple[str, dict[str, list[bytes]]]


def normalize_dn(dn: str) -> str:
    """One spelling per DN, so DNs from member attributes and searches compare equal."""
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn)).lower()
    except ldap.DECODING_ERROR:
        return dn.strip().lower()


def connection_options(conf: DirectorySettings) -> dict:
    """python-ldap options for every connection, sign-in (django-auth-ldap) and sync alike."""
    options = {
        ldap.OPT_PROTOCOL_VERSION: 3,
        # Active Directory answers with referrals to other domains; following them
        # would bind anonymously elsewhere and hang.
        ldap.OPT_REFERRALS: 0,
        ldap.OPT_NETWORK_TIMEOUT: conf.timeout,
        ldap.OPT_TIMEOUT: conf.timeout,
    }
    if conf.start_tls or any(uri.startswith("ldaps://") for uri in conf.server_uris):
        options[ldap.OPT_X_TLS_REQUIRE_CERT] = (
            ldap.OPT_X_TLS_DEMAND if conf.tls_verify else ldap.OPT_X_TLS_NEVER
        )
        if conf.ca_file:
            options[ldap.OPT_X_TLS_CACERTFILE] = conf.ca_file
        # Last: builds this connection's TLS context from the options above (dicts keep order).
        options[ldap.OPT_X_TLS_NEWCTX] = 0
    return options


def describe(exc: ldap.LDAPError) -> str:
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = info.get("desc") or type(exc).__name__
    return f"{text} ({info['info']})" if info.get("info") else text


@contextmanager
def ldap_errors(action: str):
    """Turn python-ldap errors into IntegrationError; bad service credentials are permanent."""
    try:
        yield
    except ldap.INVALID_CREDENTIALS as exc:
        raise IntegrationError(
            f"{action}: the directory refused the bind DN or password", permanent=True
        ) from exc
    except UNREACHABLE as exc:
        raise IntegrationError(f"{action}: directory unreachable: {describe(exc)}") from exc
    except ldap.LDAPError as exc:
        raise IntegrationError(f"{action}: {describe(exc)}") from exc


class DirectoryClient:
    """One LDAP connection bound as the service account, opened on first use."""

    def __init__(self, conf: DirectorySettings, connection: LDAPObject | None = None):
        self.conf = conf
        self._connection = connection

    @property
    def connection(self) -> LDAPObject:
        if self._connection is None:
            self._connection = self.connect()
        return self._connection

    def connect(self) -> LDAPObject:
        """A bound connection to the first server that answers; raises IntegrationError."""
        with ldap_errors("connect"):
            conn = ldap.initialize(self.conf.uri)
            for option, value in connection_options(self.conf).items():
                conn.set_option(option, value)
            if self.conf.start_tls:
                conn.start_tls_s()
            conn.simple_bind_s(self.conf.bind_dn, self.conf.bind_password)
        return conn

    def close(self) -> None:
        if self._connection is not None:
            # Closing a dead connection has nothing left to tell.
            with suppress(ldap.LDAPError):
                self._connection.unbind_s()
            self._connection = None

    def __enter__(self) -> DirectoryClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def search(
        self, base: str, filterstr: str, attrs: list[str], *, scope: int = ldap.SCOPE_SUBTREE
    ) -> Iterator[Entry]:
        """Every entry, a page at a time (Simple Paged Results, RFC 2696); raises IntegrationError.

        Servers cap plain searches (Active Directory's MaxPageSize is 1000), so a large
        directory can only be read in pages.
        """
        page = SimplePagedResultsControl(True, size=self.conf.page_size, cookie=b"")
        while True:
            with ldap_errors(f"search {base}"):
                msgid = self.connection.search_ext(base, scope, filterstr, attrs, serverctrls=[page])
                _type, data, _msgid, controls = self.connection.result3(msgid, timeout=self.conf.timeout)
            for dn, entry in data:
                if dn is not None:  # skip referrals
                    yield dn, entry
            cookie = next(
                (c.cookie for c in controls if c.controlType == SimplePagedResultsControl.controlType), b""
            )
            if not cookie:
                return
            page.cookie = cookie

    def read(self, dn: str, attrs: list[str], filterstr: str = "(objectClass=*)") -> dict | None:
        """One entry's attributes, or None if it is gone or fails the filter."""
        try:
            entries = list(self.search(dn, filterstr, attrs, scope=ldap.SCOPE_BASE))
        except IntegrationError as exc:
            if isinstance(exc.__cause__, ldap.NO_SUCH_OBJECT):
                return None
            raise
        return entries[0][1] if entries else None

    def root_dse(self, attrs: list[str]) -> dict:
        """The server's own description (naming contexts, Active Directory's USNs)."""
        with ldap_errors("read root DSE"):
            result = self.connection.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", attrs)
        return result[0][1] if result else {}

    # Groups. Only the groups named in RFR_LDAP_GROUP_* matter: the app needs roles,
    # not a user's full group list.

    def role_groups_of(self, user_dn: str, group_dns: Iterable[str]) -> set[str]:
        """Which of ``group_dns`` the user belongs to, nested as configured (normalized DNs)."""
        wanted = {normalize_dn(dn) for dn in group_dns}
        if not wanted:
            return set()
        if self.conf.nested_groups == "in_chain":
            # A base search on the user with an in-chain memberOf test: one small
            # question per role group, answered from the domain controller's index.
            found = set()
            for group in wanted:
                term = f"(memberOf:{IN_CHAIN}:={ldap.filter.escape_filter_chars(group)})"
                if self.read(user_dn, ["1.1"], term) is not None:
                    found.add(group)
            return found
        return (
            self._groups_above(user_dn, depth=MAX_NESTING if self.conf.nested_groups == "recursive" else 1)
            & wanted
        )

    def _groups_above(self, dn: str, *, depth: int) -> set[str]:
        """Groups holding ``dn``, and (depth > 1) groups holding those, one search per level."""
        seen: set[str] = set()
        frontier = {dn}
        for _level in range(depth):
            terms = "".join(
                f"({self.conf.member_attribute}={ldap.filter.escape_filter_chars(d)})"
                for d in sorted(frontier)
            )
            filterstr = f"(&{self.conf.group_filter}(|{terms}))"
            found = {normalize_dn(g) for g, _ in self.search(self.conf.group_search_base, filterstr, ["1.1"])}
            frontier = found - seen
            if not frontier:
                break
            seen |= frontier
        return seen

    def members_of(self, group_dns: Iterable[str]) -> set[str]:
        """Normalized DNs of every non-group member of the groups, nested as configured."""
        groups = [normalize_dn(dn) for dn in group_dns]
        if not groups:
            return set()
        if self.conf.nested_groups == "in_chain":
            members: set[str] = set()
            for group in groups:
                term = f"(memberOf:{IN_CHAIN}:={ldap.filter.escape_filter_chars(group)})"
                filterstr = f"(&{self.conf.user_filter}{term})"
                members |= {
                    normalize_dn(dn) for dn, _ in self.search(self.conf.user_search_base, filterstr, ["1.1"])
                }
            return members
        if self.conf.nested_groups == "off":
            members = set()
            for group in groups:
                entry = self.read(group, [self.conf.member_attribute]) or {}
                members |= {normalize_dn(m.decode()) for m in entry.get(self.conf.member_attribute, [])}
            return members
        return self._expand(groups)

    def _expand(self, groups: list[str]) -> set[str]:
        # One paged pass over all groups, then the nesting is walked in memory: reading
        # each member to learn whether it is a group would cost a search per person.
        attr = self.conf.member_attribute
        tree = {
            normalize_dn(dn): [normalize_dn(m.decode()) for m in entry.get(attr, [])]
            for dn, entry in self.search(self.conf.group_search_base, self.conf.group_filter, [attr])
        }
        members: set[str] = set()
        seen: set[str] = set()
        stack = [g for g in groups if g in tree]
        while stack:
            group = stack.pop()
            if group in seen:
                continue
            seen.add(group)
            for member in tree[group]:
                if member in tree:
                    stack.append(member)
                else:
                    members.add(member)
        return members
