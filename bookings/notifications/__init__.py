"""Notifications: mail with calendar attachments (mail.py) and reminders (reminders.py).

Both hang off the outbox: services announce changes there, the ``mail`` channel's sink
turns each message into mails, and reminders are outbox messages queued by a beat task.
"""
