"""The outbox channel ``mail``: each message becomes a few mails, sent over SMTP.

compose.py decides who hears what; this module builds the MIME messages and talks to
the mail server. Every mail carries a Message-ID made from the outbox message id, so a
mail sent again after a crash (the outbox delivers at least once) is recognisable as
the same mail.
"""

from __future__ import annotations

import logging
import smtplib
from email.mime.text import MIMEText
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import translation

from ..models import OutboxMessage
from ..outbox import DeliveryError
from .compose import Mail
from .invitations import COMPOSERS
from .meetings import COMPOSERS as MEETING_COMPOSERS
from .meetings import follow_meeting

log = logging.getLogger("rfr.mail")


def message_id(outbox_id: int, suffix: str = "") -> str:
    """``<outbox-42@domain>`` for the organizer's mail, ``<outbox-42-m7@domain>`` for others."""
    return f"<outbox-{outbox_id}{'-' + suffix if suffix else ''}@{settings.RFR_CALENDAR_DOMAIN}>"


def calendar_part(content: bytes, method: str, filename: str) -> MIMEText:
    """The .ics as text/calendar with its iTIP method, as Outlook and others expect it."""
    part = MIMEText(content.decode("utf-8"), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def build(mail: Mail, outbox_id: int) -> EmailMessage:
    email = EmailMessage(
        # A title is one line, but a header with a line break would be refused outright.
        subject=" ".join(mail.subject.split()),
        body=mail.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[mail.recipient.email],
        headers={
            "Message-ID": message_id(outbox_id, mail.suffix),
            # Out-of-office replies and the like must not answer a machine.
            "Auto-Submitted": "auto-generated",
        },
    )
    for calendar in mail.calendars:
        email.attach(calendar_part(calendar.content, calendar.method, calendar.filename))
    return email


def sender() -> tuple[str, str]:
    """The From address as (name, address), also the ORGANIZER of the invitations."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)


def _permanent_refusal(exc: smtplib.SMTPRecipientsRefused) -> bool:
    return bool(exc.recipients) and all(code >= 500 for code, _msg in exc.recipients.values())


def send(mails: list[Mail], outbox_id: int) -> None:
    """Send over one connection; raises DeliveryError, permanent when a recipient is refused for good.

    A temporary failure stops at once and the outbox retries the whole message: mails
    already sent go out again with the same Message-ID. A recipient refused for good
    does not keep the others from getting theirs.
    """
    refused: list[str] = []
    try:
        with get_connection(fail_silently=False) as connection:
            for mail in mails:
                try:
                    connection.send_messages([build(mail, outbox_id)])
                except smtplib.SMTPRecipientsRefused as exc:
                    if not _permanent_refusal(exc):
                        raise
                    refused.append(f"{mail.recipient.email}: {_describe(exc)}")
                except smtplib.SMTPDataError as exc:
                    # The server took the recipient but not this mail (size, content): for good.
                    if exc.smtp_code < 500:
                        raise
                    refused.append(f"{mail.recipient.email}: {_describe(exc)}")
    except (OSError, smtplib.SMTPException) as exc:
        # Connection refused, time-outs, a server going away, 4xx answers: try later.
        raise DeliveryError(f"mail server {settings.EMAIL_HOST or '-'}: {_describe(exc)}") from exc
    if refused:
        raise DeliveryError("refused for good: " + "; ".join(refused), permanent=True)


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return ", ".join(f"{code} {_text(msg)}" for code, msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return f"{type(exc).__name__}: {exc}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def mail_sink(message: OutboxMessage) -> None:
    """Mail what the message announces; raises DeliveryError (see ``send``)."""
    compose = COMPOSERS.get(message.topic) or MEETING_COMPOSERS.get(message.topic)
    if compose is None:
        return  # a topic nobody is mailed about (check-ins, directory reports)
    with translation.override(settings.RFR_MAIL_LANGUAGE):
        mails = follow_meeting(message, compose(message, sender()), sender())
    if mails:
        send(mails, message.pk)
        log.info(
            "outbox #%s %s mailed to %s",
            message.pk,
            message.topic,
            ", ".join(m.recipient.email for m in mails),
        )
