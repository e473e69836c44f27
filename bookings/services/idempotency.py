"""Idempotency keys: a retried write returns its first answer and writes nothing more."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils.translation import gettext as _

from ..errors import InvalidBooking
from ..models import IdempotencyKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_KEY_LENGTH = 255
CLAIM_SQL = """
    INSERT INTO bookings_idempotencykey (user_id, key, request_hash, created_at)
    VALUES (%s, %s, %s, now())
    ON CONFLICT (user_id, key) DO NOTHING RETURNING id
"""


class KeyReused(InvalidBooking):
    """The same key came with a different request."""


@dataclass
class Outcome:
    status: int
    body: dict
    replayed: bool


def request_hash(method: str, path: str, payload: dict) -> str:
    canonical = json.dumps([method, path, payload], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(*, user: User, key: str, fingerprint: str, action: Callable[[], tuple[int, dict]]) -> Outcome:
    """Run ``action`` once per (user, key); later calls get the stored answer.

    The key is claimed in the transaction of the write, so it exists exactly when the
    write committed: a crash or a refusal (409, 403) leaves the key free for a retry.
    Raises KeyReused when the key was used for a different request.
    """
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidBooking(_("The Idempotency-Key must have 1 to 255 characters."), field="Idempotency-Key")
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A concurrent request with the same key waits here until the first one
            # commits or rolls back; then we either see its answer or take over.
            cursor.execute(CLAIM_SQL, [user.pk, key, fingerprint])
            row = cursor.fetchone()
        if row is None:
            stored = IdempotencyKey.objects.get(user=user, key=key)
            if stored.request_hash != fingerprint:
                raise KeyReused(
                    _("This Idempotency-Key was already used for a different request."),
                    field="Idempotency-Key",
                )
            # The key is claimed and answered in one transaction: a visible key has its answer.
            assert stored.status_code is not None and stored.response is not None
            return Outcome(stored.status_code, stored.response, True)
        status, body = action()
        IdempotencyKey.objects.filter(pk=row[0]).update(status_code=status, response=body)
        return Outcome(status, body, False)
