"""The visitors' audit log is append-only, like the bookings' one: the database refuses
to change or delete its rows (retention empties Visitor rows, never their log)."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION visitors_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'visitors_visitevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER visitors_event_append_only
    BEFORE UPDATE OR DELETE ON visitors_visitevent
    FOR EACH ROW EXECUTE FUNCTION visitors_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS visitors_event_append_only ON visitors_visitevent;
DROP FUNCTION IF EXISTS visitors_event_append_only();
"""


class Migration(migrations.Migration):
    backward_compatible = "RunSQL only adds a trigger; no release ever updated or deleted a visit event"
    dependencies = [("visitors", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
