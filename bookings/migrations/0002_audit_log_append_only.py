"""The audit log is append-only: the database refuses to change or delete its rows."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION bookings_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'bookings_bookingevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER bookings_event_append_only
    BEFORE UPDATE OR DELETE ON bookings_bookingevent
    FOR EACH ROW EXECUTE FUNCTION bookings_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS bookings_event_append_only ON bookings_bookingevent;
DROP FUNCTION IF EXISTS bookings_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
