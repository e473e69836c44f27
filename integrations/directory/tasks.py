"""Scheduled directory sync (Celery beat: RFR_LDAP_SYNC_MINUTES)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from ..base import IntegrationError
from .sync import SyncBusy, sync_directory

log = logging.getLogger("rfr.directory")


@shared_task(acks_late=True, ignore_result=True, bind=True, max_retries=3)
def sync_directory_task(self, full: bool = False) -> dict | None:
    """Run one sync; a temporary directory failure is retried with backoff, a permanent one logged."""
    conf = getattr(settings, "RFR_LDAP", None)
    if conf is None:
        return None
    from .adapter import LdapDirectory  # python-ldap is needed only once LDAP is configured

    directory = LdapDirectory(conf)
    try:
        result = sync_directory(directory=directory, conf=conf, full=full)
    except SyncBusy:
        log.info("directory sync skipped: another one is running")
        return None
    except IntegrationError as exc:
        if exc.permanent:
            log.error("directory sync gave up: %s", exc)
            return None
        raise self.retry(exc=exc, countdown=60 * 2**self.request.retries) from exc
    finally:
        directory.client.close()
    return {"mode": result.mode, "seen": result.seen, "deactivated": result.deactivated}
