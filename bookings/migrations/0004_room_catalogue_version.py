"""A version of the room catalogue (sites, buildings, floors, rooms, equipment).

Every statement that changes one of those tables takes a new number from a sequence
into the single row of bookings_catalogueversion, in its own transaction. So a reader
sees a new number exactly when it sees the change, and a number is never used twice
(a sequence does not roll back): an app server may keep the catalogue in memory for as
long as the number stays the same (bookings/selectors/catalogue.py).

The trigger runs BEFORE each statement, so every transaction that writes the catalogue
takes the row lock before it touches a catalogue row: two such transactions queue up
instead of deadlocking. Catalogue changes are rare admin edits; bookings never wait here.
"""

from django.db import migrations

TABLES = [
    "bookings_site",
    "bookings_building",
    "bookings_floor",
    "bookings_room",
    "bookings_equipment",
    "bookings_room_equipment",
]

FORWARD = """
CREATE SEQUENCE bookings_catalogue_seq;
CREATE TABLE bookings_catalogueversion (
    id smallint PRIMARY KEY CHECK (id = 1),
    n bigint NOT NULL
);
INSERT INTO bookings_catalogueversion VALUES (1, nextval('bookings_catalogue_seq'));
CREATE FUNCTION bookings_bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings_catalogueversion SET n = nextval('bookings_catalogue_seq') WHERE id = 1;
    RETURN NULL;
END;
$$;
""" + "".join(
    f"""
CREATE TRIGGER bookings_catalogue_version
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION bookings_bump_catalogue_version();
"""
    for table in TABLES
)

BACKWARD = (
    "".join(f"DROP TRIGGER IF EXISTS bookings_catalogue_version ON {table};\n" for table in TABLES)
    + """
DROP FUNCTION IF EXISTS bookings_bump_catalogue_version();
DROP TABLE IF EXISTS bookings_catalogueversion;
DROP SEQUENCE IF EXISTS bookings_catalogue_seq;
"""
)


class Migration(migrations.Migration):
    backward_compatible = (
        "new table, sequence and statement triggers only; the previous release neither reads "
        "them nor is slowed by them"
    )
    dependencies = [("bookings", "0003_booking_active_span")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
