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
