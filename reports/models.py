"""The report permission, and the daily roll-up the reports read for finished days."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can see the utilisation reports of all rooms"))]
        verbose_name = _("utilisation report")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class RoomDay(models.Model):
    """One room's figures for one finished day of its site's calendar (reports/daily.py).

    Derived data: rewritten whenever the day's bookings or blockings change, and computed
    live for any day that has no row, so a missing row makes a report slower, never wrong.
    Seconds, not hours: sums stay exact and are rounded once, in the report.
    """

    room = models.ForeignKey("bookings.Room", models.CASCADE, related_name="+")
    day = models.DateField()
    bookable_seconds = models.IntegerField()
    booked_seconds = models.IntegerField()
    used_seconds = models.IntegerField()
    # Bookings that start this day: all counted ones, released ones, cancelled late.
    bookings = models.IntegerField()
    released = models.IntegerField()
    late_cancelled = models.IntegerField()
    # Per hour of the site's wall clock (index 0 = 00:00–01:00), for the heat map; at most
    # 7200 s (the hour repeated when the clocks go back), so two bytes each.
    bookable_by_hour = ArrayField(models.SmallIntegerField(), size=24)
    booked_by_hour = ArrayField(models.SmallIntegerField(), size=24)
    refreshed_at = models.DateTimeField()

    class Meta:
        default_permissions = ()
        constraints = [
            # With the sums, so reports per room and per week read the index alone.
            models.UniqueConstraint(
                fields=["room", "day"],
                include=[
                    "bookable_seconds",
                    "booked_seconds",
                    "used_seconds",
                    "bookings",
                    "released",
                    "late_cancelled",
                ],
                name="roomday_room_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.room_id} {self.day}"


class RollupMark(models.Model):
    """How far the roll-up has followed the audit log (one row): the refresh's watermark."""

    event_id = models.BigIntegerField(default=0)
    checked_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"event {self.event_id}"
