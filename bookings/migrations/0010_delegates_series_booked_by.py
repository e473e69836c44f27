"""Delegates book series too (Series.booked_by), and "My bookings" finds what a delegate made.

The index is partial (only bookings made for someone else) and built CONCURRENTLY, so an
upgrade under load does not block bookings while it builds.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("bookings", "0009_audit_log_reduction"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="series",
            name="booked_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="series_made_for_others",
                to=settings.AUTH_USER_MODEL,
                verbose_name="booked by",
            ),
        ),
        AddIndexConcurrently(
            model_name="booking",
            index=models.Index(
                condition=models.Q(("booked_by__isnull", False)),
                fields=["booked_by", "status"],
                name="booking_booked_by_status",
            ),
        ),
    ]
