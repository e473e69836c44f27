"""Celery tasks: thin, idempotent, taking ids."""

from celery import shared_task

from . import outbox
from .notifications import reminders
from .services import approvals, checkin, waiting
from .services.freed import PROMOTE_TASK


@shared_task(name=outbox.DELIVER_TASK, acks_late=True, ignore_result=True)
def deliver_outbox(message_ids: list[int]) -> int:
    """Deliver the given outbox messages; already delivered ones are skipped."""
    return sum(outbox.deliver(message_id) for message_id in message_ids)


@shared_task(acks_late=True, ignore_result=True)
def sweep_outbox() -> int:
    """Deliver whatever is due: messages whose kick was lost, and retries."""
    return sum(outbox.deliver(message_id) for message_id in outbox.due_ids())


@shared_task(acks_late=True, ignore_result=True)
def expire_approvals() -> int:
    """Expire the approval requests nobody decided in time (beat: every minute)."""
    total = 0
    while True:
        expired = approvals.expire_pending()
        total += expired
        if expired < approvals.EXPIRE_BATCH:
            return total


@shared_task(acks_late=True, ignore_result=True)
def send_reminders() -> int:
    """Queue the reminders that are due (beat: every minute while RFR_REMINDER_MINUTES > 0)."""
    return reminders.send_reminders()


@shared_task(acks_late=True, ignore_result=True)
def release_no_shows() -> int:
    """Release the bookings nobody checked in to by their deadline (beat: every minute)."""
    total = 0
    while True:
        released = len(checkin.release_no_shows())
        total += released
        if released < checkin.RELEASE_BATCH:
            return total


@shared_task(name=PROMOTE_TASK, acks_late=True, ignore_result=True)
def promote_waiting_list(room_id: int | None = None) -> int:
    """Book freed slots for those waiting in one room's line (kicked when time frees up)."""
    return len(waiting.promote_waiting(room_id=room_id))


@shared_task(acks_late=True, ignore_result=True)
def sweep_waiting_list() -> int:
    """Expire entries whose time has come and offers not accepted in time, then promote every
    line (beat: every minute)."""
    waiting.expire_offers()
    waiting.expire_waiting()
    return len(waiting.promote_waiting())
