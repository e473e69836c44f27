"""Demo data for the directory (called by seed_demo; safe to run again): a distribution list.

The demo has no LDAP server, so the list is stored as the sync would store it; the
reports' demo meetings invite it (reports/demo.py, TEAM_LIST), and right-sizing counts
its members.
"""

from __future__ import annotations

from django.utils import timezone

from .models import MailGroup

LIST = ("demo-vertrieb-alle", "vertrieb-alle@example.com", "Vertrieb (alle)", 14)


def seed_mail_groups() -> str:
    external_id, email, name, members = LIST
    MailGroup.objects.update_or_create(
        external_id=external_id,
        defaults={"email": email, "name": name, "members": members, "synced_at": timezone.now()},
    )
    return f"1 distribution list ({email}, {members} people)."
