"""DATABASE_URL as operators write it becomes the DATABASES entry libpq understands."""

import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.utils import ConnectionHandler

from raumfuerraum import env
from raumfuerraum.settings import database_from_url


def test_it_reads_a_single_host():
    db = database_from_url("postgresql://rfr:secret@db.example.com:5432/rooms")

    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["HOST"], db["PORT"]) == ("db.example.com", "5432")
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("rooms", "rfr", "secret")
    assert db["OPTIONS"] == {}


def test_it_accepts_the_short_scheme_and_defaults_the_name_and_port():
    db = database_from_url("postgres://rfr@db.example.com")

    assert (db["HOST"], db["PORT"], db["NAME"], db["USER"], db["PASSWORD"]) == (
        "db.example.com",
        "",
        "rfr",
        "rfr",
        "",
    )


def test_it_lists_several_hosts_with_their_ports_for_libpq():
    db = database_from_url("postgresql://rfr:pw@db1:5432,db2:5433/rfr?target_session_attrs=read-write")

    assert db["HOST"] == "db1,db2"
    assert db["PORT"] == "5432,5433"
    assert db["OPTIONS"] == {"target_session_attrs": "read-write"}


def test_it_keeps_an_empty_port_for_a_host_without_one():
    db = database_from_url("postgresql://rfr@db1:5433,db2/rfr")

    assert db["HOST"] == "db1,db2"
    # libpq: an empty entry in the port list means the default port for that host.
    assert db["PORT"] == "5433,"


def test_it_reads_ipv6_addresses_in_brackets():
    one = database_from_url("postgresql://rfr@[::1]:5433/rfr")
    several = database_from_url("postgresql://rfr@[2001:db8::10]:5432,[2001:db8::11]:5433/rfr")
    without_port = database_from_url("postgresql://rfr@[::1]/rfr")

    assert (one["HOST"], one["PORT"]) == ("::1", "5433")
    assert (several["HOST"], several["PORT"]) == ("2001:db8::10,2001:db8::11", "5432,5433")
    assert (without_port["HOST"], without_port["PORT"]) == ("::1", "")


def test_it_unescapes_user_password_and_name():
    password = "p@ss:w/rd%?#,"
    db = database_from_url(f"postgresql://r%C3%BCdiger:{quote(password, safe='')}@db1:5432/raum%20db")

    assert db["USER"] == "rüdiger"
    assert db["PASSWORD"] == password
    assert db["NAME"] == "raum db"
    assert (db["HOST"], db["PORT"]) == ("db1", "5432")


def test_it_passes_query_options_to_libpq():
    db = database_from_url(
        "postgresql://rfr@db1,db2/rfr?target_session_attrs=primary&sslmode=verify-full&application_name=rfr"
    )

    assert db["OPTIONS"] == {
        "target_session_attrs": "primary",
        "sslmode": "verify-full",
        "application_name": "rfr",
    }


def test_it_reads_a_unix_socket_folder_from_the_host_option():
    db = database_from_url("postgresql://postgres@/rfr?host=/var/run/postgresql&port=5433")

    assert db["HOST"] == "/var/run/postgresql"
    assert db["PORT"] == "5433"
    # Not passed twice: the folder became HOST and must not stay among the options.
    assert db["OPTIONS"] == {}


def test_it_reads_a_percent_encoded_socket_folder_as_host():
    db = database_from_url("postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/rfr")

    assert db["HOST"] == "/var/run/postgresql"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://rfr:pw@db1/rfr",
        "sqlite:///var/rfr.sqlite3",
        "http://db1/rfr",
        "db1:5432/rfr",
    ],
)
def test_it_refuses_a_url_that_is_not_postgresql(url):
    with pytest.raises(ValueError, match="postgresql://"):
        database_from_url(url)


def _url_for_this_database(dead_host_first: bool) -> str:
    """A URL for the test database, optionally after a host where nothing listens."""
    settings = connection.settings_dict
    host, port = settings["HOST"], settings["PORT"] or ""
    real = quote(host, safe="") if host.startswith("/") else host + (f":{port}" if port else "")
    dead = quote("/nonexistent/rfr-socket-dir", safe="") if host.startswith("/") else "127.0.0.1:1"
    hosts = f"{dead},{real}" if dead_host_first else real
    return f"postgresql://{settings['USER']}@{hosts}/{settings['NAME']}?target_session_attrs=read-write"


@pytest.mark.django_db
def test_it_connects_through_a_multi_host_url_when_the_first_host_is_down():
    handler = ConnectionHandler({"default": database_from_url(_url_for_this_database(dead_host_first=True))})
    db = handler["default"]
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT current_database(), pg_is_in_recovery()")
            name, in_recovery = cursor.fetchone()
    finally:
        db.close()

    assert name == connection.settings_dict["NAME"]
    assert in_recovery is False


# --- environment helpers: a typo is an error that names the variable ---------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), (" on ", True), ("no", False), ("0", False)]
)
def test_a_boolean_reads_the_usual_spellings(raw, expected):
    assert env.boolean("RFR_X", not expected, {"RFR_X": raw}) is expected


def test_an_unset_or_empty_boolean_is_its_default():
    assert env.boolean("RFR_X", True, {}) is True
    assert env.boolean("RFR_X", False, {"RFR_X": "  "}) is False


def test_a_misspelt_boolean_stops_the_start_and_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match=r"RFR_READ_ONLY must be one of .* not 'ture'"):
        env.boolean("RFR_READ_ONLY", False, {"RFR_READ_ONLY": "ture"})


def test_an_integer_refuses_words_and_values_below_its_minimum():
    assert env.integer("RFR_N", 5, {"RFR_N": "12"}) == 12
    assert env.integer("RFR_N", 5, {}) == 5
    with pytest.raises(ImproperlyConfigured, match="RFR_N must be a number, not 'zehn'"):
        env.integer("RFR_N", 5, {"RFR_N": "zehn"})
    with pytest.raises(ImproperlyConfigured, match="RFR_N must be at least 0, not -3"):
        env.integer("RFR_N", 5, {"RFR_N": "-3"})


def test_a_listing_drops_blanks():
    assert env.listing("RFR_L", "", {"RFR_L": " a, ,b ,"}) == ["a", "b"]
    assert env.listing("RFR_L", "x,y", {}) == ["x", "y"]


def test_the_settings_module_refuses_a_misspelt_flag_at_start():
    """The real start, in a child process: settings raise before Django serves anything."""
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings", "RFR_DEBUG": "ture"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "RFR_DEBUG must be one of" in result.stderr
