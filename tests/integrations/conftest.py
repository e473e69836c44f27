"""A real slapd for the session, an AD-like tree in it, and the app pointed at it.

The sign-in tree (ou=people, ou=groups):

    Staff            <- Abteilung-Einkauf <- mmuster (Max Mustermann)
                     <- Zyklus-A <-> Zyklus-B <- dadmin   (a cycle must not loop)
    Raumverwalter    <- Team-Empfang <- Empfang-Kern <- ebeispiel (two levels deep)
    Facility         <- fadmin
    Display          <- dadmin
    gesperrt         employeeType=disabled, filtered out like AD's disabled accounts
    admin            a directory account named like the local emergency admin

Sync tests each get their own organizational unit (``sync_tree``), so they neither
see nor disturb each other.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings

from integrations.directory.conf import DirectorySettings, from_env
from integrations.directory.login import ldap_available

if ldap_available():  # else test_directory.py says why it does not run
    from . import slapd as sl

PASSWORDS = {
    "mmuster": "Max-Passwort-1",
    "ebeispiel": "Erika-Passwort-1",
    "fadmin": "Frank-Passwort-1",
    "dadmin": "Dora-Passwort-1",
    "gesperrt": "Gerd-Passwort-1",
    "admin": "Directory-Admin-1",
}
USER_FILTER = "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))"
_ou_numbers = itertools.count(1)


def people_dn(uid: str, ou: str = "people") -> str:
    return f"uid={uid},ou={ou},{sl.SUFFIX}"


def group_dn(cn: str, ou: str = "groups") -> str:
    return f"cn={cn},ou={ou},{sl.SUFFIX}"


def signin_tree() -> str:
    people = [
        sl.person_ldif(
            "people",
            "mmuster",
            "Max",
            "Mustermann",
            password=PASSWORDS["mmuster"],
            extra={"departmentNumber": "Einkauf", "telephoneNumber": "+49 30 1234-56"},
        ),
        sl.person_ldif("people", "ebeispiel", "Erika", "Beispiel", password=PASSWORDS["ebeispiel"]),
        sl.person_ldif("people", "fadmin", "Frank", "Facility", password=PASSWORDS["fadmin"]),
        sl.person_ldif("people", "dadmin", "Dora", "Display", password=PASSWORDS["dadmin"]),
        sl.person_ldif(
            "people",
            "gesperrt",
            "Gerd",
            "Gesperrt",
            password=PASSWORDS["gesperrt"],
            extra={"employeeType": "disabled"},
        ),
        sl.person_ldif("people", "admin", "Dirk", "Directory", password=PASSWORDS["admin"]),
    ]
    groups = [
        sl.group_ldif("groups", "Abteilung-Einkauf", [people_dn("mmuster")]),
        sl.group_ldif("groups", "Zyklus-A", [group_dn("Zyklus-B")]),
        sl.group_ldif("groups", "Zyklus-B", [group_dn("Zyklus-A"), people_dn("dadmin")]),
        sl.group_ldif("groups", "Staff", [group_dn("Abteilung-Einkauf"), group_dn("Zyklus-A")]),
        sl.group_ldif("groups", "Empfang-Kern", [people_dn("ebeispiel")]),
        sl.group_ldif("groups", "Team-Empfang", [group_dn("Empfang-Kern")]),
        sl.group_ldif("groups", "Raumverwalter", [group_dn("Team-Empfang")]),
        sl.group_ldif("groups", "Facility", [people_dn("fadmin")]),
        sl.group_ldif("groups", "Display", [people_dn("dadmin")]),
    ]
    # groupOfNames must name a member when added, so Zyklus-A first names B before B exists:
    # slapd without referential integrity accepts that, as AD accepts any DN it knows.
    return "\n".join([sl.ou_ldif("people"), sl.ou_ldif("groups"), *people, *groups])


@pytest.fixture(scope="session")
def slapd(tmp_path_factory):
    if not sl.available():
        pytest.skip("slapd and ldap-utils are not installed (make test installs them as root)")
    server = sl.Slapd(tmp_path_factory.mktemp("slapd"), size_limit=20, tls=True).start()
    try:
        server.ldapadd(sl.base_ldif())
        server.ldapadd(signin_tree())
        yield server
    finally:
        server.stop()


def directory_env(server: sl.Slapd, **overrides: str) -> dict[str, str]:
    env = {
        "RFR_LDAP_SERVER_URI": server.uri,
        "RFR_LDAP_SERVER_TYPE": "openldap",
        "RFR_LDAP_BIND_DN": sl.SERVICE_DN,
        "RFR_LDAP_BIND_PASSWORD": sl.SERVICE_PW,
        "RFR_LDAP_USER_SEARCH_BASE": f"ou=people,{sl.SUFFIX}",
        "RFR_LDAP_USER_FILTER": USER_FILTER,
        "RFR_LDAP_GROUP_SEARCH_BASE": f"ou=groups,{sl.SUFFIX}",
        "RFR_LDAP_GROUP_STAFF": group_dn("Staff"),
        "RFR_LDAP_GROUP_ROOM_MANAGERS": group_dn("Raumverwalter"),
        "RFR_LDAP_GROUP_FACILITY_ADMINS": group_dn("Facility"),
        "RFR_LDAP_GROUP_DISPLAY_ADMINS": group_dn("Display"),
        "RFR_LDAP_TIMEOUT": "2",
        "RFR_LDAP_PAGE_SIZE": "10",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


@pytest.fixture
def use_directory(slapd, settings, db) -> Callable[..., DirectorySettings]:
    """Point the app at the test slapd (RFR_LDAP_* overrides as keyword arguments)."""

    def configure(**overrides: str) -> DirectorySettings:
        conf = from_env(directory_env(slapd, **overrides))
        settings.RFR_LDAP = conf
        backends = list(django_settings.AUTHENTICATION_BACKENDS)
        if "integrations.directory.backend.DirectoryBackend" not in backends:
            backends.append("integrations.directory.backend.DirectoryBackend")
        settings.AUTHENTICATION_BACKENDS = backends
        return conf

    configure()
    return configure


class SyncTree:
    """An organizational unit of its own: people, a nested staff group, a facility group."""

    def __init__(self, server: sl.Slapd, people: int):
        self.server = server
        self.ou = f"sync{next(_ou_numbers)}"
        self.uids = [f"{self.ou}-u{i:03d}" for i in range(people)]
        entries = [sl.ou_ldif(self.ou)]
        entries += [sl.person_ldif(self.ou, uid, "Person", uid.replace("-", "")) for uid in self.uids]
        half = [people_dn(uid, self.ou) for uid in self.uids[: people // 2]]
        entries.append(sl.group_ldif(self.ou, "Inner", half))
        entries.append(sl.group_ldif(self.ou, "Staff", [self.group("Inner")]))
        entries.append(sl.group_ldif(self.ou, "Facility", [self.dn(self.uids[-1])]))
        server.ldapadd("\n".join(entries))

    def dn(self, uid: str) -> str:
        return people_dn(uid, self.ou)

    def group(self, cn: str) -> str:
        return group_dn(cn, self.ou)

    def env(self) -> dict[str, str]:
        base = f"ou={self.ou},{sl.SUFFIX}"
        return {
            "RFR_LDAP_USER_SEARCH_BASE": base,
            "RFR_LDAP_GROUP_SEARCH_BASE": base,
            "RFR_LDAP_GROUP_STAFF": self.group("Staff"),
            "RFR_LDAP_GROUP_ROOM_MANAGERS": "",
            "RFR_LDAP_GROUP_FACILITY_ADMINS": self.group("Facility"),
            "RFR_LDAP_GROUP_DISPLAY_ADMINS": "",
        }


@pytest.fixture
def sync_tree(slapd) -> Callable[[int], SyncTree]:
    return lambda people=45: SyncTree(slapd, people)


# The Exchange doubles and a room with a mailbox, for the Exchange tests.
from .exchange_fixtures import ews, exchange, graph, maria, pki, spree  # noqa: E402, F401
