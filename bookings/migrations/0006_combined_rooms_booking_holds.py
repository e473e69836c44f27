"""Combinable rooms: RoomPart names a combined room's parts; BookingHold holds each active
booking's physical parts under an exclusion constraint, kept in step by triggers.

The triggers, not the services, write BookingHold, so every path that changes a booking's
room, span, buffers or status (create, change, cancel, release, series, approvals,
expiry, and the previous release's code during an upgrade) keeps the holds true.
"""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models


HOLD_TRIGGERS = """
CREATE FUNCTION rfr_hold(bid bigint, rid bigint, held tstzrange, st varchar) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM bookings_bookinghold WHERE booking_id = bid;
    IF st IN ('pending', 'confirmed') THEN
        -- A combined room holds its parts; a plain room holds itself.
        INSERT INTO bookings_bookinghold (booking_id, room_id, blocked_span)
        SELECT bid, p.part_id, held FROM bookings_roompart p WHERE p.combined_id = rid
        UNION ALL
        SELECT bid, rid, held
         WHERE NOT EXISTS (SELECT 1 FROM bookings_roompart p WHERE p.combined_id = rid);
    END IF;
END
$$;

CREATE FUNCTION rfr_booking_holds() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rfr_hold(NEW.id, NEW.room_id, COALESCE(NEW.blocked_span, NEW.span), NEW.status);
    RETURN NULL;
END
$$;
-- AFTER: blocked_span is final once the BEFORE trigger (0005) has widened the span.
CREATE TRIGGER booking_holds_insert AFTER INSERT ON bookings_booking
    FOR EACH ROW EXECUTE FUNCTION rfr_booking_holds();
CREATE TRIGGER booking_holds_update AFTER UPDATE ON bookings_booking
    FOR EACH ROW WHEN (
        OLD.room_id IS DISTINCT FROM NEW.room_id OR OLD.span IS DISTINCT FROM NEW.span
        OR OLD.blocked_span IS DISTINCT FROM NEW.blocked_span OR OLD.status IS DISTINCT FROM NEW.status
    ) EXECUTE FUNCTION rfr_booking_holds();

-- Parts of a combined room changed: its bookings still to come hold the new parts (the
-- constraint refuses the change if they would collide). A combined room is never a
-- part, and a part never a combination: combinations of combinations are refused here.
CREATE FUNCTION rfr_roompart_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    combined bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.combined_id ELSE NEW.combined_id END;
BEGIN
    IF TG_OP = 'INSERT' AND (
        EXISTS (SELECT 1 FROM bookings_roompart WHERE combined_id = NEW.part_id)
        OR EXISTS (SELECT 1 FROM bookings_roompart WHERE part_id = NEW.combined_id)
    ) THEN
        RAISE EXCEPTION 'a combined room cannot be a part of another'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'roompart_no_nesting';
    END IF;
    PERFORM rfr_hold(b.id, b.room_id, COALESCE(b.blocked_span, b.span), b.status)
       FROM bookings_booking b
      WHERE b.room_id = combined AND b.status IN ('pending', 'confirmed') AND upper(b.span) > now();
    RETURN NULL;
END
$$;
CREATE TRIGGER roompart_changed AFTER INSERT OR DELETE ON bookings_roompart
    FOR EACH ROW EXECUTE FUNCTION rfr_roompart_changed();

-- A combined room's parts are part of the room catalogue (migration 0004).
CREATE TRIGGER bookings_catalogue_version
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON bookings_roompart
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_bump_catalogue_version();

-- Backfill: no room has parts yet, so each active booking holds its own room. Inserts
-- of the previous release wait for this transaction (CREATE TRIGGER locks the table
-- against writes) and then pass through the trigger.
INSERT INTO bookings_bookinghold (booking_id, room_id, blocked_span)
SELECT b.id, b.room_id, COALESCE(b.blocked_span, b.span)
  FROM bookings_booking b
 WHERE b.status IN ('pending', 'confirmed')
   AND NOT EXISTS (SELECT 1 FROM bookings_bookinghold h WHERE h.booking_id = b.id);
"""
DROP_HOLD_TRIGGERS = """
DROP TRIGGER IF EXISTS bookings_catalogue_version ON bookings_roompart;
DROP TRIGGER IF EXISTS roompart_changed ON bookings_roompart;
DROP TRIGGER IF EXISTS booking_holds_update ON bookings_booking;
DROP TRIGGER IF EXISTS booking_holds_insert ON bookings_booking;
DROP FUNCTION IF EXISTS rfr_roompart_changed();
DROP FUNCTION IF EXISTS rfr_booking_holds();
DROP FUNCTION IF EXISTS rfr_hold(bigint, bigint, tstzrange, varchar);
"""


class Migration(migrations.Migration):
    # Reviewed: two new tables the previous release never reads, and triggers that keep
    # the new table in step with bookings its code writes. The backfill is one pass
    # over the active bookings, in the same transaction as the triggers.
    backward_compatible = "new tables, and triggers and a backfill the old code never sees"

    dependencies = [
        ("bookings", "0005_policies_blockings_feeds"),
    ]

    operations = [
        migrations.CreateModel(
            name="BookingHold",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "blocked_span",
                    django.contrib.postgres.fields.ranges.DateTimeRangeField(
                        verbose_name="blocked time span"
                    ),
                ),
                (
                    "booking",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="holds",
                        to="bookings.booking",
                        verbose_name="booking",
                    ),
                ),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="holds",
                        to="bookings.room",
                        verbose_name="room",
                    ),
                ),
            ],
            options={
                "verbose_name": "held room",
                "verbose_name_plural": "held rooms",
                "constraints": [
                    django.contrib.postgres.constraints.ExclusionConstraint(
                        expressions=[("room", "="), ("blocked_span", "&&")], name="booking_hold_no_overlap"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="RoomPart",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "combined",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="part_links",
                        to="bookings.room",
                        verbose_name="combined room",
                    ),
                ),
                (
                    "part",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="combination_links",
                        to="bookings.room",
                        verbose_name="part",
                    ),
                ),
            ],
            options={
                "verbose_name": "part of a combined room",
                "verbose_name_plural": "parts (for a combined room: the rooms it joins)",
                "constraints": [
                    models.UniqueConstraint(fields=("combined", "part"), name="roompart_unique"),
                    models.CheckConstraint(
                        condition=models.Q(("combined", models.F("part")), _negated=True),
                        name="roompart_not_itself",
                    ),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="bookinghold",
            index=django.contrib.postgres.indexes.GistIndex(
                fields=["blocked_span"], include=("room",), name="bookinghold_span"
            ),
        ),
        migrations.RunSQL(HOLD_TRIGGERS, DROP_HOLD_TRIGGERS),
    ]
