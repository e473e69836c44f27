"""A GiST index on the span of active bookings, for searches across rooms.

Built CONCURRENTLY so an upgrade under load does not block bookings while it builds.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("bookings", "0002_audit_log_append_only"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="booking",
            index=django.contrib.postgres.indexes.GistIndex(
                condition=models.Q(("status__in", ["pending", "confirmed"])),
                fields=["span"],
                include=("room",),
                name="booking_active_span",
            ),
        ),
    ]
