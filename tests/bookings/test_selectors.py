"""The API's hot reads: day plan, free-room search, room list.

They run hand-written SQL (bookings/selectors/: catalogue, availability, dayplan) for
speed; these tests hold them to a fixed number of queries whatever the number of rooms,
to the answers of the ORM selectors the staff pages use, and to hiding others' private
titles.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from bookings.api.serialize import room_dict
from bookings.models import Booking
from bookings.selectors.availability import BUSY_ROOMS_SQL, free_rooms
from bookings.selectors.dayplan import DAY_BOOKINGS_SQL, day_plan
from bookings.selectors.places import rooms as orm_rooms
from tests import factories

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def a_site_with(n_rooms: int, day: date, organizer) -> list:
    """n rooms in two buildings, each booked twice that day, one of them privately."""
    site = factories.site(time_zone="Europe/Berlin")
    floors = [factories.floor(factories.building(site)) for _ in range(2)]
    rooms = []
    for i in range(n_rooms):
        room = factories.room(
            floors[i % 2], capacity=4 + i % 7, equipment_codes=("projector", "video")[: i % 3]
        )
        factories.booking(room, organizer, factories.on(day, 9, tz=BERLIN), title=f"Plan {i}")
        factories.booking(room, organizer, factories.on(day, 14, tz=BERLIN), 90, private=True, title="Secret")
        rooms.append(room)
    return rooms


ENDPOINTS = {
    # name: (path for the day, queries allowed: one for the token, the rest the selector's)
    # The day plan also reads which rooms share a part (combinable rooms): one more.
    "day plan": (lambda day: f"/api/v1/availability?date={day}", 4),
    "free rooms": (
        lambda day: (
            "/api/v1/rooms?"
            + f"free_from={factories.on(day, 9, tz=BERLIN).isoformat()}"
            + f"&free_to={factories.on(day, 10, tz=BERLIN).isoformat()}".replace("+", "%2B")
        ),
        2,
    ),
    "room list": (lambda day: "/api/v1/rooms", 2),
}


@pytest.mark.parametrize("n_rooms", [5, 50])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_it_answers_in_the_same_few_queries_for_5_and_50_rooms(
    client, alice, token_for, django_assert_max_num_queries, endpoint, n_rooms
):
    day = factories.days_ahead(2, BERLIN)
    a_site_with(n_rooms, day, alice)
    path, allowed = ENDPOINTS[endpoint]
    headers = token_for(alice)
    client.get(path(day).replace("+", "%2B"), headers=headers)  # notes the token's first use
    with django_assert_max_num_queries(allowed):
        response = client.get(path(day).replace("+", "%2B"), headers=headers)
    assert response.status_code == 200, response.content
    body = response.json()
    rooms = body["rooms"] if endpoint == "day plan" else body
    if endpoint == "free rooms":
        assert rooms == []  # every room is booked at 09:00
    else:
        assert len(rooms) == n_rooms


def test_it_hides_private_titles_from_everyone_but_the_organizer_and_staff(
    client, alice, bob, fiona, token_for
):
    day = factories.days_ahead(2, BERLIN)
    room = factories.room(capacity=6)
    factories.booking(room, alice, factories.on(day, 9, tz=BERLIN), title="Open")
    factories.booking(room, alice, factories.on(day, 11, tz=BERLIN), private=True, title="Salary talk")

    def titles(user):
        response = client.get(f"/api/v1/availability?date={day}", headers=token_for(user))
        assert response.status_code == 200
        [plan] = response.json()["rooms"]
        return [b["title"] for b in plan["busy"]]

    assert titles(bob) == ["Open", None]
    assert titles(alice) == ["Open", "Salary talk"]
    assert titles(fiona) == ["Open", "Salary talk"]


def test_it_answers_the_day_plan_in_the_documented_shape(client, alice, token_for):
    day = factories.days_ahead(2, BERLIN)
    room = factories.room(capacity=6, name="Spree")
    booking = factories.booking(room, alice, factories.on(day, 9, 30, tz=BERLIN), 45, title="Jour fixe")
    response = client.get(f"/api/v1/availability?date={day}", headers=token_for(alice))
    assert response.json() == {
        "date": day.isoformat(),
        "rooms": [
            {
                "id": room.pk,
                "name": "Spree",
                "capacity": 6,
                "building": room.floor.building_id,
                "busy": [
                    {
                        "id": booking.pk,
                        "start": booking.span.lower.astimezone(ZoneInfo("UTC")).isoformat(),
                        "end": booking.span.upper.astimezone(ZoneInfo("UTC")).isoformat(),
                        "status": "confirmed",
                        "title": "Jour fixe",
                    }
                ],
            }
        ],
    }


@pytest.fixture
def places(alice):
    """Two sites, rooms with equipment (names sorting otherwise than codes) and bookings."""
    factories.equipment("whiteboard", "Altes Whiteboard")
    factories.equipment("projector", "Beamer")
    factories.equipment("video", "Videokonferenz")
    berlin = factories.site("Berlin", "Europe/Berlin")
    haus_a, haus_b = factories.building(berlin, "Haus A"), factories.building(berlin, "Haus B")
    new_york = factories.site("New York", "America/New_York")
    hudson = factories.building(new_york, "Hudson")
    day = factories.days_ahead(3, BERLIN)
    rooms = {
        "spree": factories.room(factories.floor(haus_a), "Spree", 8, ("projector", "video", "whiteboard")),
        "havel": factories.room(factories.floor(haus_a), "Havel", 8, ("video",)),
        "elbe": factories.room(factories.floor(haus_b), "Elbe", 4),
        "oder": factories.room(factories.floor(haus_b), "Oder", 30, ("projector",)),
        "closed": factories.room(factories.floor(haus_b), "Lager", 2, bookable=False),
        "east": factories.room(factories.floor(hudson), "East River", 12, ("projector",)),
    }
    nine = factories.on(day, 9, tz=BERLIN)
    factories.booking(rooms["spree"], alice, nine, 60)  # busy 09-10
    factories.booking(rooms["havel"], alice, nine - timedelta(hours=1), 60)  # ends as the slot starts
    factories.booking(rooms["elbe"], alice, nine, 60, status=Booking.Status.CANCELLED)
    factories.booking(rooms["oder"], alice, nine + timedelta(minutes=30), 60, status=Booking.Status.PENDING)
    factories.booking(rooms["east"], alice, nine, 30, status=Booking.Status.RELEASED)
    return {"day": day, "nine": nine, "rooms": rooms, "berlin": berlin, "haus_a": haus_a}


FILTERS = [
    {},
    {"min_capacity": 8},
    {"equipment": ["projector"]},
    {"equipment": ["projector", "video"]},
    {"equipment": ["projector", "projector"]},
    {"equipment": ["no-such-thing"]},
    {"building": "haus_a"},
    {"site": "berlin"},
    {"site": "berlin", "min_capacity": 5, "equipment": ["video"]},
]


def _resolve(filters: dict, places: dict) -> dict:
    resolved = dict(filters)
    if "building" in resolved:
        resolved["building"] = places[resolved["building"]].pk
    if "site" in resolved:
        resolved["site"] = places[resolved["site"]].pk
    return resolved


def _query(filters: dict) -> str:
    parts = [f"{k}={v}" for k, v in filters.items() if k != "equipment"]
    parts += [f"equipment={code}" for code in filters.get("equipment", [])]
    return "&".join(parts)


@pytest.mark.parametrize("filters", FILTERS)
def test_it_lists_rooms_as_the_orm_selector_does(client, alice, token_for, places, filters):
    filters = _resolve(filters, places)
    expected = [room_dict(r) for r in orm_rooms(**filters).prefetch_related("equipment")]
    response = client.get(f"/api/v1/rooms?{_query(filters)}", headers=token_for(alice))
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize("filters", FILTERS)
def test_it_finds_free_rooms_as_the_orm_selector_does(client, alice, token_for, places, filters):
    filters = _resolve(filters, places)
    start, end = places["nine"], places["nine"] + timedelta(hours=1)
    qs = free_rooms(start=start, end=end, **filters).prefetch_related("equipment")
    expected = [room_dict(r) for r in qs]
    slot = f"free_from={start.isoformat()}&free_to={end.isoformat()}".replace("+", "%2B")
    response = client.get(f"/api/v1/rooms?{slot}&{_query(filters)}", headers=token_for(alice))
    assert response.status_code == 200
    assert response.json() == expected


def test_it_finds_the_rooms_a_person_would_call_free(client, alice, token_for, places):
    start, end = places["nine"], places["nine"] + timedelta(hours=1)
    slot = f"free_from={start.isoformat()}&free_to={end.isoformat()}".replace("+", "%2B")
    response = client.get(f"/api/v1/rooms?{slot}", headers=token_for(alice))
    # Spree is booked, Oder pending, the store room not bookable; Havel's booking ends as
    # the slot starts, Elbe's is cancelled and East River's released. Smallest first.
    assert [r["name"] for r in response.json()] == ["Elbe", "Havel", "East River"]
    havel = response.json()[1]
    assert havel["equipment"] == ["video"]
    assert havel["building"]["name"] == "Haus A" and havel["site"]["time_zone"] == "Europe/Berlin"
    spree = client.get(f"/api/v1/rooms/{places['rooms']['spree'].pk}", headers=token_for(alice)).json()
    assert spree["equipment"] == ["whiteboard", "projector", "video"]  # by name: Altes, Beamer, Video


def _orm_day_plan(day: date, viewer, **filters) -> list:
    return [
        {
            "id": plan.room.pk,
            "busy": [(b["id"], b["span"].lower, b["span"].upper, b["status"]) for b in plan.bookings],
        }
        for plan in day_plan(day=day, **filters)
    ]


def _api_day_plan(body: dict) -> list:
    return [
        {
            "id": room["id"],
            "busy": [
                (
                    b["id"],
                    datetime.fromisoformat(b["start"]),
                    datetime.fromisoformat(b["end"]),
                    b["status"],
                )
                for b in room["busy"]
            ],
        }
        for room in body["rooms"]
    ]


def test_it_plans_each_room_on_its_own_sites_local_day(client, alice, token_for, places):
    day = places["day"]
    rooms = places["rooms"]
    # Around Berlin's midnights, and a New York evening that is the next day in UTC.
    late = factories.booking(rooms["elbe"], alice, factories.on(day, 23, 30, tz=BERLIN), 60)
    early = factories.booking(rooms["elbe"], alice, factories.on(day, 0, 0, tz=BERLIN), 30)
    before = factories.booking(rooms["elbe"], alice, factories.on(day, 0, 0, tz=BERLIN) - timedelta(hours=1))
    evening = factories.booking(rooms["east"], alice, factories.on(day, 20, tz=NEW_YORK), 60)
    response = client.get(f"/api/v1/availability?date={day}", headers=token_for(alice))
    assert response.status_code == 200
    plan = {r["id"]: [b["id"] for b in r["busy"]] for r in response.json()["rooms"]}
    assert late.pk in plan[rooms["elbe"].pk] and early.pk in plan[rooms["elbe"].pk]
    assert before.pk not in plan[rooms["elbe"].pk]
    assert evening.pk in plan[rooms["east"].pk]
    assert _api_day_plan(response.json()) == _orm_day_plan(day, alice)
    for filters in ({"building": places["haus_a"].pk}, {"site": places["berlin"].pk}):
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        body = client.get(f"/api/v1/availability?date={day}&{query}", headers=token_for(alice)).json()
        assert _api_day_plan(body) == _orm_day_plan(day, alice, **filters)


def test_it_plans_a_daylight_saving_day_of_23_hours(client, alice, token_for):
    day = date(2027, 3, 28)  # Berlin skips 02:00-03:00
    room = factories.room(factories.floor(factories.building(factories.site(time_zone="Europe/Berlin"))))
    first = factories.booking(room, alice, datetime(2027, 3, 28, 0, 30, tzinfo=BERLIN), 60)
    last = factories.booking(room, alice, datetime(2027, 3, 28, 23, 0, tzinfo=BERLIN), 60)
    factories.booking(room, alice, datetime(2027, 3, 29, 0, 0, tzinfo=BERLIN), 60)  # the next day
    body = client.get(f"/api/v1/availability?date={day}", headers=token_for(alice)).json()
    assert [b["id"] for b in body["rooms"][0]["busy"]] == [first.pk, last.pk]
    assert _api_day_plan(body) == _orm_day_plan(day, alice)


def test_the_sql_spells_out_the_active_statuses_as_the_partial_index_does():
    # The hand-written SQL writes Booking.ACTIVE out, so that the planner matches it with
    # the predicate of the partial index booking_active_span: a new active status needs
    # a new index too.
    assert set(Booking.ACTIVE) == {"pending", "confirmed"}
    assert "bk.status IN ('pending', 'confirmed')" in DAY_BOOKINGS_SQL
    # The free-room search reads BookingHold, which has rows for active bookings only.
    assert "bookings_bookinghold" in BUSY_ROOMS_SQL
    [index] = [i for i in Booking._meta.indexes if i.name == "booking_active_span"]
    assert index.condition == Q(status__in=list(Booking.ACTIVE))


# --- the room catalogue kept in memory (bookings/selectors/catalogue.py) --------------


def _names(client, headers, query: str = "") -> list[str]:
    response = client.get(f"/api/v1/rooms{query}", headers=headers)
    assert response.status_code == 200
    return [r["name"] for r in response.json()]


def test_it_shows_every_change_to_the_catalogue_at_once(client, alice, token_for, places):
    headers = token_for(alice)
    rooms = places["rooms"]
    assert "Main" not in _names(client, headers)
    new = factories.room(factories.floor(places["haus_a"]), "Main", 1, ("video",))
    assert _names(client, headers)[0] == "Main"
    new.name = "Mosel"
    new.save()
    assert _names(client, headers)[0] == "Mosel"
    new.equipment.add(factories.equipment("projector"))
    assert "Mosel" in _names(client, headers, "?equipment=projector&equipment=video")
    places["haus_a"].name = "Haus Alpha"
    places["haus_a"].save()
    spree = client.get(f"/api/v1/rooms/{rooms['spree'].pk}", headers=headers).json()
    assert spree["building"]["name"] == "Haus Alpha"
    start, end = places["nine"], places["nine"] + timedelta(hours=1)
    slot = f"?free_from={start.isoformat()}&free_to={end.isoformat()}".replace("+", "%2B")
    assert "Elbe" in _names(client, headers, slot)
    rooms["elbe"].bookable = False
    rooms["elbe"].save()
    assert "Elbe" not in _names(client, headers, slot)
    new_id = new.pk
    new.equipment.clear()
    new.delete()
    assert "Mosel" not in _names(client, headers)
    assert client.get(f"/api/v1/rooms/{new_id}", headers=headers).status_code == 404


def test_it_forgets_a_catalogue_change_that_was_rolled_back(client, alice, token_for, places):
    from django.db import transaction

    headers = token_for(alice)
    before = _names(client, headers)
    with transaction.atomic():
        factories.room(factories.floor(places["haus_a"]), "Ghost", 1)
        assert _names(client, headers)[0] == "Ghost"
        transaction.set_rollback(True)
    assert _names(client, headers) == before
    factories.room(factories.floor(places["haus_a"]), "Real", 1)
    assert _names(client, headers) == ["Real", *before]


@pytest.mark.django_db(transaction=True)
def test_every_gunicorn_worker_sees_a_committed_catalogue_change(gunicorn_server, alice):
    import httpx

    from bookings.services.tokens import issue_token

    room = factories.room(name="Isar", capacity=5)
    _token, raw = issue_token(user=alice)
    headers = {"Authorization": f"Bearer {raw}"}

    def names() -> set[str]:
        # Several requests, so that both workers answer (and cache) at least once.
        seen = set()
        for _ in range(8):
            with httpx.Client(base_url=gunicorn_server, headers=headers) as http:
                seen |= {tuple(r["name"] for r in http.get("/api/v1/rooms").json())}
        return seen

    assert names() == {("Isar",)}
    room.name = "Lech"
    room.save()
    factories.room(room.floor, "Inn", 50)
    assert names() == {("Lech", "Inn")}
