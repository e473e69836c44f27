"""What sign-in needs to know of the directory without talking to it.

Kept apart from backend.py so that the sign-in form and the brute-force lock work on
a machine without python-ldap (directory sign-in off).
"""

from __future__ import annotations

UNREACHABLE_FLAG = "rfr_directory_unreachable"


def normalize_login(raw: str | None) -> str:
    """``FIRMA\\mmuster``, ``mmuster@firma.de`` and `` MMuster `` all become ``mmuster``."""
    login = (raw or "").strip()
    login = login.rpartition("\\")[2]
    login = login.partition("@")[0]
    return login.strip().lower()


def mark_unreachable(request) -> None:
    if request is not None:
        setattr(request, UNREACHABLE_FLAG, True)


def directory_unreachable(request) -> bool:
    """Whether this request's sign-in failed because the directory could not be asked."""
    return bool(getattr(request, UNREACHABLE_FLAG, False))


def ldap_available() -> bool:
    """python-ldap is an optional extra (``pip install .[ldap]``); it needs C headers to build."""
    try:
        import django_auth_ldap  # noqa: F401
        import ldap  # noqa: F401
    except ImportError:
        return False
    return True
