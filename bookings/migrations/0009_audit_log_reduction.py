"""The audit log stays append-only, with one exception a retention rule needs: an entry
older than the rule's period may have its details (``changes``, which can hold old titles
and attendee lists) emptied, and nothing else, and only by a transaction that says so
(``SET LOCAL rfr.audit_reduction = 'on'``, privacy/retention.py). Deleting stays refused."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND current_setting('rfr.audit_reduction', true) = 'on'
        AND NEW.id = OLD.id AND NEW.booking_id = OLD.booking_id AND NEW.kind = OLD.kind
        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id AND NEW.at = OLD.at
        AND NEW.changes = '{}'::jsonb
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'bookings_bookingevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

BACKWARD = """
CREATE OR REPLACE FUNCTION bookings_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bookings_bookingevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


class Migration(migrations.Migration):
    backward_compatible = "RunSQL replaces a trigger function; the old code never updates audit rows"
    dependencies = [("bookings", "0008_outbox_given_up_index")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
