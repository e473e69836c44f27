"""An index on given-up outbox messages, which /metrics counts at every scrape.

Built CONCURRENTLY so an upgrade under load does not block the outbox while it builds.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("bookings", "0007_delegates_booked_by"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("given_up_at__isnull", False)),
                fields=["channel", "given_up_at"],
                name="outbox_given_up",
            ),
        ),
    ]
