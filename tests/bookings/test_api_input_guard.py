"""The input guard: what a hostile client sends gets a documented 4xx in our JSON, never a 500.

Oversized and non-JSON bodies, integers past what PostgreSQL stores, NUL in a query,
numbers where ISO 8601 is promised, days at the calendar's edges (API and pages), and
the OpenAPI document naming all of it.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from bookings.models import Booking
from tests import factories

pytestmark = pytest.mark.django_db

RANGE = "Das Datum muss zwischen 1900-01-01 und 9998-12-31 liegen."


@pytest.fixture
def valid(room) -> dict:
    day = factories.days_ahead(2)
    start = factories.on(day, 9)
    return {
        "room": room.pk,
        "title": "Planung",
        "start": start.isoformat(),
        "end": factories.on(day, 10).isoformat(),
    }


def post(client, headers, body: str, content_type="application/json"):
    return client.post("/api/v1/bookings", body, content_type=content_type, headers=headers)


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert isinstance(data["detail"], str) and data["detail"]
    return data


# --- bodies ---------------------------------------------------------------------------


def test_it_answers_413_in_json_for_a_body_larger_than_django_takes(client, alice, token_for):
    body = '{"title": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'

    data = assert_json_error(post(client, token_for(alice), body), 413)

    assert data["detail"].startswith("Der Anfrageinhalt ist zu groß")
    assert Booking.objects.count() == 0


def test_it_answers_413_in_english_when_asked(client, alice, token_for):
    body = "[" + "1," * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + "1]"
    headers = {**token_for(alice), "Accept-Language": "en"}

    data = assert_json_error(post(client, headers, body), 413)

    assert data["detail"].startswith("The request body is too large")


def test_it_answers_415_for_a_body_that_is_not_json(client, alice, token_for, valid):
    response = post(
        client, token_for(alice), "room=1&title=x", content_type="application/x-www-form-urlencoded"
    )

    data = assert_json_error(response, 415)
    assert "application/json" in data["detail"]
    assert Booking.objects.count() == 0


def test_it_takes_json_with_a_charset(client, alice, token_for, valid):
    import json

    response = post(
        client, token_for(alice), json.dumps(valid), content_type="application/json; charset=utf-8"
    )

    assert response.status_code == 201


def test_it_answers_a_body_less_post_whatever_its_content_type(client, alice, token_for):
    # Approving takes no body; Django's test client sends an empty multipart one.
    response = client.post("/api/v1/bookings/999/approve", headers=token_for(alice))

    assert_json_error(response, 404)


# --- integers, text and times -----------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/bookings?offset=9223372036854775808",
        "/api/v1/bookings?offset=99999999999999999999999",
        "/api/v1/approvals?offset=9223372036854775807",
        "/api/v1/bookings/9223372036854775808",
        "/api/v1/rooms/99999999999999999999",
        "/api/v1/rooms?building=9223372036854775808",
        "/api/v1/rooms?min_capacity=2147483648",
    ],
)
def test_it_refuses_integers_past_what_the_database_stores(client, alice, token_for, path):
    data = assert_json_error(client.get(path, headers=token_for(alice)), 422)

    assert data["detail"].endswith("Der Wert ist zu groß.")


def test_it_refuses_an_id_past_bigint_in_a_body(client, alice, token_for, valid):
    import json

    data = assert_json_error(post(client, token_for(alice), json.dumps({**valid, "room": 2**63})), 422)

    assert data["field"] == "room"


@pytest.mark.parametrize(
    "query",
    ["status=con%00firmed", "equipment=beam%00er", "status=ok&status=%00"],
    ids=["status", "equipment", "second"],
)
def test_it_refuses_nul_in_a_query_parameter(client, alice, token_for, query):
    path = "/api/v1/rooms" if "equipment" in query else "/api/v1/bookings"

    data = assert_json_error(client.get(f"{path}?{query}", headers=token_for(alice)), 422)

    assert "nicht zulässiges Zeichen" in data["detail"]


@pytest.mark.parametrize("value", ["1800000000", "1800000000.5", 1800000000])
def test_it_refuses_a_unix_time_even_written_as_a_string(client, alice, token_for, valid, value):
    import json

    data = assert_json_error(post(client, token_for(alice), json.dumps({**valid, "start": value})), 422)

    assert data["field"] == "start"
    assert Booking.objects.count() == 0


def test_it_refuses_a_unix_time_in_a_query(client, alice, token_for):
    data = assert_json_error(client.get("/api/v1/bookings?from=1800000000", headers=token_for(alice)), 422)

    assert data["field"] == "from"


def test_it_refuses_an_offset_postgresql_cannot_store(client, alice, token_for, room):
    path = f"/api/v1/rooms/{room.pk}/bookings?from=2026-05-04T09:00:00-21:13&to=2026-05-05T09:00:00Z"

    data = assert_json_error(client.get(path, headers=token_for(alice)), 422)

    assert data["detail"] == "from: Der Zeitzonen-Versatz muss zwischen -14:00 und +14:00 liegen."


# --- the calendar's edges ----------------------------------------------------------------


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_it_refuses_a_day_off_the_calendar_on_the_day_plan_api(client, alice, token_for, day):
    data = assert_json_error(client.get(f"/api/v1/availability?date={day}", headers=token_for(alice)), 422)

    assert data["detail"] == f"date: {RANGE}"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00+05:00", "0001-01-02T00:00:00+05:00"),
        ("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
    ],
    ids=["year-1", "year-9999"],
)
def test_it_refuses_times_off_the_calendar_on_room_reads(client, alice, token_for, room, start, end):
    path = f"/api/v1/rooms/{room.pk}/bookings?from={start.replace('+', '%2B')}&to={end}"

    response = client.get(path, headers=token_for(alice))

    assert_json_error(response, 422)


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_it_answers_the_day_plan_page_off_the_calendar_with_a_translated_400(client, alice, room, day):
    client.force_login(alice)

    response = client.get(f"/plan/?date={day}")

    assert response.status_code == 400
    assert RANGE in response.content.decode()
    assert "Ungültige Anfrage" in response.content.decode()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_it_answers_the_room_week_off_the_calendar_with_a_translated_400(client, alice, room, day):
    client.force_login(alice)

    response = client.get(f"/rooms/{room.pk}/?week={day}")

    assert response.status_code == 400
    assert RANGE in response.content.decode()


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_it_names_a_day_off_the_calendar_in_the_finder(client, alice, room, day):
    client.force_login(alice)
    place = f"building-{room.floor.building_id}"

    response = client.get(f"/?place={place}&date={day}&start=09:00&end=10:00")

    assert response.status_code == 200
    assert RANGE in response.content.decode()


# --- the document -----------------------------------------------------------------------


def test_it_documents_every_answer_and_limit(client):
    doc = client.get("/api/v1/openapi.json").json()
    create = doc["paths"]["/api/v1/bookings"]["post"]
    params = {p["name"]: p for p in create["parameters"]}

    assert {"201", "400", "401", "403", "409", "413", "415", "422", "429", "503"} <= set(create["responses"])
    assert "WWW-Authenticate" in create["responses"]["401"]["headers"]
    assert "Retry-After" in create["responses"]["429"]["headers"]
    # An over-long request line is refused before the app: by HAProxy in JSON, by gunicorn in HTML.
    assert set(create["responses"]["414"]["content"]) == {"application/json", "text/html"}
    assert params["Idempotency-Key"]["schema"]["anyOf"][0]["maxLength"] == 255
    get = doc["paths"]["/api/v1/bookings/{booking_id}"]["get"]
    booking_id = next(p for p in get["parameters"] if p["name"] == "booking_id")
    assert booking_id["schema"]["maximum"] == 2**63 - 1
    assert {"401", "404", "422", "429"} <= set(get["responses"])
    body = doc["components"]["schemas"]["BookingIn"]["properties"]
    assert body["title"]["maxLength"] == 200
    assert "pattern" in body["title"]


def test_a_parameter_given_twice_is_refused_not_half_read(client, alice, token_for):
    response = client.get("/api/v1/bookings?offset=false&offset=0", headers=token_for(alice))
    assert response.status_code == 422
    assert response.json()["detail"] == "offset: Geben Sie diesen Parameter nur einmal an."
    listed = client.get("/api/v1/rooms?equipment=projector&equipment=screen", headers=token_for(alice))
    assert listed.status_code == 200  # a list parameter may repeat
