"""The privacy audit log is append-only: the database refuses to change or delete its rows."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION privacy_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'privacy_privacyevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER privacy_event_append_only
    BEFORE UPDATE OR DELETE ON privacy_privacyevent
    FOR EACH ROW EXECUTE FUNCTION privacy_event_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS privacy_event_append_only ON privacy_privacyevent;
DROP FUNCTION IF EXISTS privacy_event_append_only();
"""


class Migration(migrations.Migration):
    backward_compatible = "RunSQL only adds a trigger to a table no earlier release had"
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
