"""Invitations to attendees: the organizer's choice per booking, and an index to find what a person attends.

The column has a database default, so the previous release's inserts keep working; the
GIN index is built CONCURRENTLY, so an upgrade under load does not block bookings.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("bookings", "0011_waiting_list"),
    ]

    operations = [
        migrations.AddField(
            model_name="booking",
            name="invite_attendees",
            field=models.BooleanField(db_default=False, default=False, verbose_name="send invitations"),
        ),
        AddIndexConcurrently(
            model_name="booking",
            index=django.contrib.postgres.indexes.GinIndex(fields=["attendees"], name="booking_attendees"),
        ),
    ]
