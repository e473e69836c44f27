"""Sign-in with directory accounts through django-auth-ldap.

django-auth-ldap finds the person's DN (bound as the service account) and checks the
password by binding as them; we take it from there: the user is found by directory id,
created or updated through accounts.upsert_person, and their roles are read fresh from
the directory at every sign-in.

Local accounts stay separate: ModelBackend comes first in AUTHENTICATION_BACKENDS, and
this backend never signs in, renames or overwrites a user without a DirectoryAccount.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_auth_ldap.backend import LDAPBackend, _LDAPUser, ldap_error
from django_auth_ldap.config import LDAPSearch

from ..base import IntegrationError
from .accounts import UsernameTaken, upsert_person
from .adapter import LdapDirectory
from .client import DirectoryClient, connection_options
from .conf import DirectorySettings
from .login import directory_unreachable, mark_unreachable, normalize_login
from .models import DirectoryAccount

log = logging.getLogger("rfr.directory")

# What a login name may contain before it goes into a filter (escaped there as well).
LOGIN_NAME = re.compile(r"^[\w.\-$ ]{1,150}$")


def auth_ldap_settings(conf: DirectorySettings) -> dict:
    """django-auth-ldap's AUTH_LDAP_* settings (without the prefix) for our configuration."""
    return {
        "SERVER_URI": conf.uri,
        "START_TLS": conf.start_tls,
        "BIND_DN": conf.bind_dn,
        "BIND_PASSWORD": conf.bind_password,
        "CONNECTION_OPTIONS": connection_options(conf),
        "USER_SEARCH": LDAPSearch(conf.user_search_base, 2, conf.login_filter, ["1.1"]),  # 2: subtree
        # Users, attributes and roles are ours to write (accounts.upsert_person).
        "ALWAYS_UPDATE_USER": False,
        "USER_ATTR_MAP": {},
        "FIND_GROUP_PERMS": False,
        "CACHE_TIMEOUT": 0,
    }


class DirectoryBackend(LDAPBackend):
    """django-auth-ldap, configured from RFR_LDAP_*, with login names normalized."""

    @property
    def conf(self) -> DirectorySettings | None:
        return getattr(settings, "RFR_LDAP", None)

    @property
    def default_settings(self) -> dict:
        return auth_ldap_settings(self.conf) if self.conf else {}

    def authenticate(self, request, username=None, password=None, **kwargs):
        if self.conf is None or not password:
            return None
        login = normalize_login(username)
        if not LOGIN_NAME.match(login) or _is_local(login):
            return None
        return super().authenticate(request, username=login, password=password)

    def get_or_build_user(self, username, ldap_user):
        """The user for the entry django-auth-ldap bound as, created or refreshed (roles too)."""
        directory = LdapDirectory(self.conf, DirectoryClient(self.conf, connection=ldap_user.connection))
        try:
            person = directory.person_at(ldap_user.dn)
        except IntegrationError as exc:
            mark_unreachable(ldap_user._request)
            raise _LDAPUser.AuthenticationFailed(f"reading {ldap_user.dn}: {exc}") from exc
        if person is None:
            raise _LDAPUser.AuthenticationFailed(f"{ldap_user.dn} has no id or login name")
        try:
            user, status = upsert_person(person, now=timezone.now())
        except UsernameTaken:
            log.warning("directory sign-in refused: the local account %r holds this name", person.username)
            raise _LDAPUser.AuthenticationFailed("a local account holds the name") from None
        log.info("directory sign-in %s (%s)", user.username, status)
        return user, False  # saved already; django-auth-ldap must not populate it again

    def get_user(self, user_id):
        # Sessions outlive a sync that deactivates a leaver; they end with it.
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def _is_local(login: str) -> bool:
    # A local account's name is never looked up in the directory: its password was
    # wrong (ModelBackend ran first), and the directory must not take it over.
    return (
        get_user_model()
        .objects.filter(username=login)
        .exclude(pk__in=DirectoryAccount.objects.values("user_id"))
        .exists()
    )


def _on_ldap_error(sender, context, user, request, exception, **kwargs) -> None:
    # django-auth-ldap swallows LDAP errors into "wrong password"; a flag on the request
    # lets the sign-in form say what really happened.
    log.warning("directory sign-in could not ask the directory (%s): %s", context, exception)
    mark_unreachable(request)


def connect_signals() -> None:
    ldap_error.connect(_on_ldap_error, sender=DirectoryBackend, dispatch_uid="rfr-directory-unreachable")


__all__ = ["DirectoryBackend", "connect_signals", "directory_unreachable", "normalize_login"]
