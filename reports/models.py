"""The report permission, and the daily roll-up the reports read for finished days."""

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


# Seconds per hour of the site's wall clock, for the heat map: bookable_h00 (00:00–01:00)
# to bookable_h23, and booked_h00 to booked_h23. At most 7200 (the hour repeated when the
# clocks go back), so two bytes each. Columns, not two arrays: summing a column over a
# million rows is several times cheaper than summing array elements (docs/performance.md).
HOUR_COLUMNS = [f"{kind}_h{hour:02d}" for kind in ("bookable", "booked") for hour in range(24)]
for _name in HOUR_COLUMNS:
    RoomDay.add_to_class(_name, models.SmallIntegerField(default=0))


class RollupMark(models.Model):
    """How far the roll-up has followed the audit log (one row): the refresh's watermark."""

    event_id = models.BigIntegerField(default=0)
    checked_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"event {self.event_id}"
