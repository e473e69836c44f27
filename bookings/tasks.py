"""Celery tasks: thin, idempotent, taking ids."""

from celery import shared_task

from . import outbox


@shared_task(acks_late=True, ignore_result=True)
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
    from .services.approvals import EXPIRE_BATCH, expire_pending

    total = 0
    while True:
        expired = expire_pending()
        total += expired
        if expired < EXPIRE_BATCH:
            return total


@shared_task(acks_late=True, ignore_result=True)
def send_reminders() -> int:
    """Queue the reminders that are due (beat: every minute while RFR_REMINDER_MINUTES > 0)."""
    from .notifications.reminders import send_reminders as send

    return send()


@shared_task(acks_late=True, ignore_result=True)
def release_no_shows() -> int:
    """Release the bookings nobody checked in to by their deadline (beat: every minute)."""
    from .services.checkin import RELEASE_BATCH
    from .services.checkin import release_no_shows as release

    total = 0
    while True:
        released = len(release())
        total += released
        if released < RELEASE_BATCH:
            return total
