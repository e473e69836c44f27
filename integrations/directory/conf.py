"""The directory's configuration, read once from RFR_LDAP_* environment variables.

The app calls ``from_env()`` as Django starts (apps.py) and keeps the result as
``settings.RFR_LDAP``, which everything else reads; it is None when RFR_LDAP_SERVER_URI
is unset: then sign-in, sync and their schedule (switched in settings.py) are off.
Nothing here imports Django models or python-ldap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from raumfuerraum import env as env_config

# The roles a directory group can grant; see accounts.apply_roles.
ROLES = ("staff", "room_managers", "facility_admins", "display_admins")
# Roles from RFR_LDAP_MANAGER_GROUPS: "manages:<group name>", membership of that Django group.
MANAGER_ROLE = "manages:"

# Active Directory: accounts that are people, without the disabled ones (bit 2 of
# userAccountControl, tested with the bitwise-AND matching rule).
AD_USER_FILTER = (
    "(&(objectCategory=person)(objectClass=user)(!(userAccountControl:1.2.840.113556.1.4.803:=2)))"
)

FLAVOURS: dict[str, dict] = {
    "ad": {
        "login_attribute": "sAMAccountName",
        "id_attribute": "objectGUID",
        "user_filter": AD_USER_FILTER,
        "group_filter": "(objectClass=group)",
        "nested_groups": "in_chain",
        "change_attribute": "uSNChanged",
        "attributes": {
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
            "department": "department",
            "phone": "telephoneNumber",
        },
    },
    "openldap": {
        "login_attribute": "uid",
        "id_attribute": "entryUUID",
        "user_filter": "(objectClass=inetOrgPerson)",
        "group_filter": "(objectClass=groupOfNames)",
        "nested_groups": "recursive",
        "change_attribute": "modifyTimestamp",
        "attributes": {
            "first_name": "givenName",
            "last_name": "sn",
            "email": "mail",
            "department": "departmentNumber",
            "phone": "telephoneNumber",
        },
    },
}
NESTED_MODES = ("in_chain", "recursive", "off")


# An RFR_LDAP_* variable is missing or malformed; the message names it.
ConfigError = env_config.ConfigError


@dataclass(frozen=True)
class DirectorySettings:
    server_uris: tuple[str, ...]
    user_search_base: str
    flavour: str = "ad"
    start_tls: bool = False
    ca_file: str = ""
    tls_verify: bool = True
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    timeout: float = 5.0
    user_filter: str = AD_USER_FILTER
    login_attribute: str = "sAMAccountName"
    id_attribute: str = "objectGUID"
    attributes: Mapping[str, str] = field(default_factory=dict)
    group_search_base: str = ""
    group_filter: str = "(objectClass=group)"
    member_attribute: str = "member"
    nested_groups: str = "in_chain"
    role_groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    change_attribute: str = "uSNChanged"
    page_size: int = 500
    cancel_bookings_of_leavers: bool = False
    full_sync_hours: int = 24

    @property
    def uri(self) -> str:
        """libldap takes a space-separated list and tries the servers in order."""
        return " ".join(self.server_uris)

    @property
    def login_filter(self) -> str:
        """The sign-in search: the user filter and the login name (%(user)s, escaped)."""
        return f"(&{self.user_filter}({self.login_attribute}=%(user)s))"


def _number(env: Mapping[str, str], name: str, default: float, kind=int):
    number = env_config.number(name, default, env, kind=kind, minimum=None)
    if number <= 0:
        raise ConfigError(f"{name} must be positive")
    return number


def group_name(dn: str) -> str:
    """The Django group a mirrored directory group becomes: its CN (``CN=RV Haus A,OU=…``)."""
    first = re.split(r"(?<!\\),", dn, maxsplit=1)[0]
    value = first.partition("=")[2].replace("\\,", ",").strip()
    if not value:
        raise ConfigError(f"RFR_LDAP_MANAGER_GROUPS: {dn!r} is not a group DN")
    return value[:150]


def _dns(value: str) -> tuple[str, ...]:
    # DNs hold commas, so several are separated by semicolons (or new lines).
    return tuple(dn.strip() for dn in re.split(r"[;\n]", value) if dn.strip())


def _filter(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not (value.startswith("(") and value.endswith(")")):
        raise ConfigError(f"{name} must be an LDAP filter in parentheses, not {value!r}")
    return value


def _password(env: Mapping[str, str]) -> str:
    if path := env.get("RFR_LDAP_BIND_PASSWORD_FILE", "").strip():
        try:
            return Path(path).read_text().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"RFR_LDAP_BIND_PASSWORD_FILE cannot be read: {exc}") from None
    return env.get("RFR_LDAP_BIND_PASSWORD", "")


def _attribute_map(env: Mapping[str, str], defaults: Mapping[str, str]) -> dict[str, str]:
    """``first_name=givenName,phone=mobile`` over the flavour's defaults; ``phone=`` drops one."""
    mapping = dict(defaults)
    for item in env.get("RFR_LDAP_ATTRIBUTE_MAP", "").split(","):
        if not item.strip():
            continue
        key, sep, attr = (part.strip() for part in item.partition("="))
        if not sep or key not in defaults:
            raise ConfigError(
                f"RFR_LDAP_ATTRIBUTE_MAP: {item.strip()!r} is not one of "
                f"{', '.join(k + '=ATTRIBUTE' for k in defaults)}"
            )
        if attr:
            mapping[key] = attr
        else:
            mapping.pop(key, None)
    return mapping


def from_env(env: Mapping[str, str] | None = None) -> DirectorySettings | None:
    """The directory settings, or None (directory off) when RFR_LDAP_SERVER_URI is unset."""
    env = os.environ if env is None else env
    uris = tuple(u for u in re.split(r"[\s,]+", env.get("RFR_LDAP_SERVER_URI", "")) if u)
    if not uris:
        return None
    for uri in uris:
        if not uri.startswith(("ldap://", "ldaps://")):
            raise ConfigError(f"RFR_LDAP_SERVER_URI: {uri!r} must start with ldap:// or ldaps://")
    flavour = env.get("RFR_LDAP_SERVER_TYPE", "ad").strip().lower() or "ad"
    if flavour not in FLAVOURS:
        raise ConfigError(f"RFR_LDAP_SERVER_TYPE must be one of {', '.join(FLAVOURS)}")
    defaults = FLAVOURS[flavour]
    base = env.get("RFR_LDAP_USER_SEARCH_BASE", "").strip()
    if not base:
        raise ConfigError("RFR_LDAP_USER_SEARCH_BASE is required when RFR_LDAP_SERVER_URI is set")
    nested = env.get("RFR_LDAP_NESTED_GROUPS", "").strip().lower() or defaults["nested_groups"]
    if nested not in NESTED_MODES:
        raise ConfigError(f"RFR_LDAP_NESTED_GROUPS must be one of {', '.join(NESTED_MODES)}")
    start_tls = env_config.boolean("RFR_LDAP_START_TLS", False, env)
    if start_tls and any(u.startswith("ldaps://") for u in uris):
        raise ConfigError("RFR_LDAP_START_TLS cannot be combined with ldaps:// URIs")
    ca_file = env.get("RFR_LDAP_CA_FILE", "").strip()
    if ca_file and not Path(ca_file).is_file():
        raise ConfigError(f"RFR_LDAP_CA_FILE: no file at {ca_file}")
    return DirectorySettings(
        server_uris=uris,
        flavour=flavour,
        start_tls=start_tls,
        ca_file=ca_file,
        tls_verify=env_config.boolean("RFR_LDAP_TLS_VERIFY", True, env),
        bind_dn=env.get("RFR_LDAP_BIND_DN", "").strip(),
        bind_password=_password(env),
        timeout=_number(env, "RFR_LDAP_TIMEOUT", 5.0, float),
        user_search_base=base,
        user_filter=_filter(env, "RFR_LDAP_USER_FILTER", defaults["user_filter"]),
        login_attribute=env.get("RFR_LDAP_LOGIN_ATTRIBUTE", "").strip() or defaults["login_attribute"],
        id_attribute=env.get("RFR_LDAP_ID_ATTRIBUTE", "").strip() or defaults["id_attribute"],
        attributes=_attribute_map(env, defaults["attributes"]),
        group_search_base=env.get("RFR_LDAP_GROUP_SEARCH_BASE", "").strip() or base,
        group_filter=_filter(env, "RFR_LDAP_GROUP_FILTER", defaults["group_filter"]),
        member_attribute=env.get("RFR_LDAP_GROUP_MEMBER_ATTRIBUTE", "").strip() or "member",
        nested_groups=nested,
        role_groups={
            **{role: dns for role in ROLES if (dns := _dns(env.get(f"RFR_LDAP_GROUP_{role.upper()}", "")))},
            # Mirrored groups: each becomes a Django group named by its CN, for the admin to
            # name as room managers in the policy of a building or room.
            **{MANAGER_ROLE + group_name(dn): (dn,) for dn in _dns(env.get("RFR_LDAP_MANAGER_GROUPS", ""))},
        },
        change_attribute=(
            env["RFR_LDAP_CHANGE_ATTRIBUTE"].strip()
            if "RFR_LDAP_CHANGE_ATTRIBUTE" in env
            else defaults["change_attribute"]
        ),
        page_size=_number(env, "RFR_LDAP_PAGE_SIZE", 500),
        cancel_bookings_of_leavers=env_config.boolean("RFR_LDAP_CANCEL_BOOKINGS_OF_LEAVERS", False, env),
        full_sync_hours=_number(env, "RFR_LDAP_FULL_SYNC_HOURS", 24),
    )
