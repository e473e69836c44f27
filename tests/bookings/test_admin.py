"""The admin: facility admins configure places, look into bookings, cancel and revoke."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from bookings import services
from bookings.models import ApiToken, Blocking, Booking, BookingEvent, OutboxMessage, Policy, PolicyHours
from bookings.services.tokens import issue_token
from tests import factories

CHANGELISTS = [
    "site",
    "building",
    "floor",
    "room",
    "equipment",
    "booking",
    "bookingevent",
    "outboxmessage",
    "apitoken",
    "series",
]


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("sam", "sam@example.com", "sam-pw-123")


@pytest.fixture
def planning(alice, room) -> Booking:
    """Alice's booking tomorrow, made through the service (so with event and outbox row)."""
    factories.equipment("projector", "Beamer")
    room.equipment.set([factories.equipment("projector")])
    start = factories.tomorrow_at(10)
    return services.create_booking(
        room=room, organizer=alice, title="Planung Q3", start=start, end=start + timedelta(hours=1)
    )


def booking_at(room, organizer, hour: int, title: str) -> Booking:
    start = factories.tomorrow_at(hour)
    return services.create_booking(
        room=room, organizer=organizer, title=title, start=start, end=start + timedelta(minutes=30)
    )


def changelist(model: str) -> str:
    return reverse(f"admin:bookings_{model}_changelist")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["fiona", "superuser"])
def test_it_shows_every_changelist_to_facility_admins(client, request, persona, planning, token_for):
    token_for(planning.organizer)
    services.create_series(
        room=planning.room,
        organizer=planning.organizer,
        title="Jour fixe",
        start=factories.tomorrow_at(14),
        end=factories.tomorrow_at(15),
        rrule="FREQ=DAILY;COUNT=2",
    )
    client.force_login(request.getfixturevalue(persona))

    statuses = {model: client.get(changelist(model)).status_code for model in CHANGELISTS}

    assert statuses == dict.fromkeys(CHANGELISTS, 200)
    bookings_page = client.get(changelist("booking")).content.decode()
    assert "Planung Q3" in bookings_page
    assert planning.room.name in bookings_page
    assert planning.room.name in client.get(changelist("room")).content.decode()


@pytest.mark.django_db
def test_it_shows_the_detail_pages_read_only(client, fiona, planning):
    event = BookingEvent.objects.get(booking=planning)
    message = OutboxMessage.objects.filter(payload__id=planning.pk).first()
    token, _raw = issue_token(user=planning.organizer, name="Kalender-Sync")
    client.force_login(fiona)

    pages = {
        "booking": client.get(reverse("admin:bookings_booking_change", args=[planning.pk])),
        "event": client.get(reverse("admin:bookings_bookingevent_change", args=[event.pk])),
        "outbox": client.get(reverse("admin:bookings_outboxmessage_change", args=[message.pk])),
        "token": client.get(reverse("admin:bookings_apitoken_change", args=[token.pk])),
        "room": client.get(reverse("admin:bookings_room_change", args=[planning.room.pk])),
    }

    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert "Planung Q3" in pages["booking"].content.decode()
    # Neither the booking nor the audit log offers a form field to change them.
    assert 'name="title"' not in pages["booking"].content.decode()
    assert 'name="kind"' not in pages["event"].content.decode()


@pytest.mark.django_db
def test_it_ignores_a_posted_change_to_a_booking(client, fiona, planning):
    client.force_login(fiona)

    client.post(
        reverse("admin:bookings_booking_change", args=[planning.pk]),
        {"title": "Gekapert", "status": "cancelled", "bookingevent_set-TOTAL_FORMS": "0"},
    )

    planning.refresh_from_db()
    assert (planning.title, planning.status, planning.version) == ("Planung Q3", "confirmed", 1)


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["fiona", "superuser"])
def test_it_allows_neither_adding_nor_deleting_bookings(client, request, persona, planning):
    client.force_login(request.getfixturevalue(persona))

    add = client.get(reverse("admin:bookings_booking_add"))
    delete = client.get(reverse("admin:bookings_booking_delete", args=[planning.pk]))
    delete_post = client.post(reverse("admin:bookings_booking_delete", args=[planning.pk]), {"post": "yes"})
    listing = client.get(changelist("booking"))
    bulk = client.post(
        changelist("booking"), {"action": "delete_selected", "_selected_action": [planning.pk]}
    )

    assert (add.status_code, delete.status_code, delete_post.status_code) == (403, 403, 403)
    actions = [value for value, _label in listing.context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions
    assert "cancel_selected" in actions
    assert bulk.status_code in (200, 302)
    assert Booking.objects.filter(pk=planning.pk, status="confirmed").exists()


@pytest.mark.django_db
def test_it_cancels_through_the_service(client, fiona, alice, planning):
    second = booking_at(planning.room, alice, 13, "Kundentermin")
    client.force_login(fiona)

    chosen = {"action": "cancel_selected", "_selected_action": [planning.pk, second.pk]}
    preview = client.post(changelist("booking"), chosen)
    # First the list of what would go, and nothing cancelled yet.
    page = preview.content.decode()
    assert preview.status_code == 200 and 'id="cancel-impact"' in page
    assert "Planung Q3" in page and "Kundentermin" in page and planning.room.place_label in page
    assert "2 Buchungen von 1 Organisator" in page
    assert Booking.objects.filter(status="cancelled").count() == 0
    # A confirmation without a reason is asked again.
    again = client.post(changelist("booking"), {**chosen, "confirmed": "yes", "reason": " "})
    assert again.status_code == 200 and "Bitte geben Sie einen Grund" in again.content.decode()
    assert Booking.objects.filter(status="cancelled").count() == 0

    response = client.post(
        changelist("booking"), {**chosen, "confirmed": "yes", "reason": "Umzug der Abteilung"}, follow=True
    )

    assert response.status_code == 200
    assert "2 Buchungen storniert." in [str(m) for m in response.context["messages"]]
    for booking in (planning, second):
        booking.refresh_from_db()
        assert booking.status == "cancelled"
        assert booking.cancelled_at is not None
        assert booking.version == 2
        event = BookingEvent.objects.get(booking=booking, kind="cancelled")
        assert event.actor == fiona and event.changes == {"reason": "Umzug der Abteilung"}
        assert OutboxMessage.objects.filter(topic="booking.cancelled", payload__id=booking.pk).exists()


@pytest.mark.django_db
def test_it_reports_bookings_the_cancel_action_could_not_cancel(client, fiona, alice, bob, room):
    ended = factories.booking(room, bob, factories.tomorrow_at(8) - timedelta(days=3), title="Vorbei")
    running = booking_at(room, alice, 12, "Läuft")
    client.force_login(fiona)

    response = client.post(
        changelist("booking"),
        {
            "action": "cancel_selected",
            "_selected_action": [ended.pk, running.pk],
            "confirmed": "yes",
            "reason": "Cleanup",
        },
        follow=True,
        headers={"Accept-Language": "en"},
    )

    messages = [str(m) for m in response.context["messages"]]
    assert "1 bookings cancelled." in messages
    assert any(m.startswith("Vorbei") and "ended" in m for m in messages), messages
    ended.refresh_from_db()
    running.refresh_from_db()
    assert (ended.status, running.status) == ("confirmed", "cancelled")
    assert not BookingEvent.objects.filter(booking=ended).exists()


@pytest.mark.django_db
def test_it_revokes_a_token_so_the_api_refuses_it(client, fiona, alice, token_for):
    headers = token_for(alice)
    assert client.get("/api/v1/bookings", headers=headers).status_code == 200
    token = ApiToken.objects.get(user=alice)
    client.force_login(fiona)

    response = client.post(
        changelist("apitoken"), {"action": "revoke_selected", "_selected_action": [token.pk]}, follow=True
    )
    client.logout()

    assert "Tokens widerrufen." in [str(m) for m in response.context["messages"]]
    token.refresh_from_db()
    assert token.revoked_at is not None
    refused = client.get("/api/v1/bookings", headers=headers)
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_it_allows_neither_adding_nor_deleting_tokens_in_the_admin(client, fiona, alice, token_for):
    token_for(alice)
    token = ApiToken.objects.get(user=alice)
    client.force_login(fiona)

    assert client.get(reverse("admin:bookings_apitoken_add")).status_code == 403
    assert client.get(reverse("admin:bookings_apitoken_delete", args=[token.pk])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/admin/bookings/booking/", "/admin/bookings/apitoken/"])
def test_it_sends_bob_to_the_admin_login(client, bob, planning, path):
    client.force_login(bob)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]


@pytest.mark.django_db
def test_it_does_not_let_bob_cancel_through_the_admin(client, bob, planning):
    client.force_login(bob)

    response = client.post(
        changelist("booking"),
        {"action": "cancel_selected", "_selected_action": [planning.pk], "confirmed": "yes", "reason": "x"},
    )

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    planning.refresh_from_db()
    assert planning.status == "confirmed"


@pytest.mark.django_db
def test_the_admin_s_two_box_picker_speaks_german(client, fiona):
    # Django 5.2 ships these strings of the picker untranslated; locale/de/…/djangojs.po has them.
    client.force_login(fiona)
    german = client.get("/admin/jsi18n/", headers={"Accept-Language": "de"}).content.decode()
    english = client.get("/admin/jsi18n/", headers={"Accept-Language": "en"}).content.decode()

    assert '"Choose all %s": "Alle %s ausw\\u00e4hlen"' in german
    assert '"Remove all %s": "Alle %s entfernen"' in german
    assert "Alle %s" not in english


@pytest.mark.django_db
def test_it_names_rooms_by_their_place_and_times_in_the_room_s_zone(client, fiona, alice):
    # Two rooms of the same name in different buildings, one of them in New York.
    berlin = factories.building(factories.site("Berlin"), name="Haus A")
    new_york = factories.building(factories.site("New York", time_zone="America/New_York"), name="Hudson")
    spree_berlin = factories.room(factories.floor(berlin, name="EG"), name="H0.01 Spree")
    spree_ny = factories.room(factories.floor(new_york, name="Ground"), name="H0.01 Spree")
    day = factories.days_ahead(3)
    factories.booking(spree_ny, alice, factories.on(day, 9, tz=spree_ny.floor.building.site.tz), title="NY")
    client.force_login(fiona)

    bookings = client.get(changelist("booking") + "?q=NY").content.decode()
    assert "New York · Hudson · Ground · H0.01 Spree" in bookings
    assert "9:00 (New York)" in bookings or "09:00 (New York)" in bookings

    # A chosen room shows its place in the form, too.
    policy = Policy.objects.create(room=spree_ny, requires_approval=True)
    form = client.get(reverse("admin:bookings_policy_change", args=[policy.pk])).content.decode()
    assert "New York · Hudson · Ground · H0.01 Spree</option>" in form
    found = client.get(
        reverse("admin:autocomplete"),
        {"term": "Spree", "app_label": "bookings", "model_name": "blocking", "field_name": "room"},
    ).json()["results"]
    assert {r["text"] for r in found} == {
        "Berlin · Haus A · EG · H0.01 Spree",
        "New York · Hudson · Ground · H0.01 Spree",
    }
    assert {int(r["id"]) for r in found} == {spree_berlin.pk, spree_ny.pk}
    # Searching by building finds the room too.
    by_building = client.get(
        reverse("admin:autocomplete"),
        {"term": "Hudson", "app_label": "bookings", "model_name": "blocking", "field_name": "room"},
    ).json()["results"]
    assert [r["text"] for r in by_building] == ["New York · Hudson · Ground · H0.01 Spree"]


def blocking_form(room, day, **extra) -> dict:
    return {
        "room": room.pk,
        "span_0": f"{day} 08:00",
        "span_1": f"{day} 18:00",
        "reason": "Wasserschaden",
        **extra,
    }


@pytest.mark.django_db
def test_a_blocking_that_meets_nothing_is_saved_at_once(client, fiona, room):
    client.force_login(fiona)
    form = blocking_form(room, factories.days_ahead(3))
    response = client.post(reverse("admin:bookings_blocking_add"), form)
    assert response.status_code == 302
    assert Blocking.objects.filter(room=room, reason="Wasserschaden").count() == 1


@pytest.mark.django_db
def test_a_blocking_lists_the_bookings_it_meets_and_waits_for_a_decision(client, fiona, alice, room):
    day = factories.days_ahead(3)
    meeting = factories.booking(room, alice, factories.on(day, 10), title="Planung Q3")
    client.force_login(fiona)
    add = reverse("admin:bookings_blocking_add")

    first = client.post(add, blocking_form(room, day))
    page = first.content.decode()
    assert first.status_code == 200 and not Blocking.objects.exists()
    assert 'id="blocking-impact"' in page and "Planung Q3" in page and meeting.room.place_label in page
    assert "Diese Sperrung trifft 1 aktive Buchung" in page

    # Cancelling needs a message to the organizers; without one nothing is written.
    no_message = client.post(add, blocking_form(room, day, confirmed="on", affected="cancel"))
    assert no_message.status_code == 200 and not Blocking.objects.exists()
    assert "Bitte schreiben Sie den Organisatoren" in no_message.content.decode()

    done = client.post(
        add, blocking_form(room, day, confirmed="on", affected="cancel", message="Wasserschaden im Raum")
    )
    assert done.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Booking.Status.CANCELLED
    event = BookingEvent.objects.get(booking=meeting, kind=BookingEvent.Kind.CANCELLED)
    assert event.changes == {"reason": "Wasserschaden im Raum"} and event.actor == fiona
    assert OutboxMessage.objects.filter(topic="booking.cancelled", payload__id=meeting.pk).exists()


@pytest.mark.django_db
def test_a_blocking_can_keep_the_bookings_it_meets_and_tell_their_owners(client, fiona, alice, room):
    day = factories.days_ahead(3)
    meeting = factories.booking(room, alice, factories.on(day, 10), title="Planung Q3")
    client.force_login(fiona)

    done = client.post(
        reverse("admin:bookings_blocking_add"), blocking_form(room, day, confirmed="on", affected="keep")
    )

    assert done.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Booking.Status.CONFIRMED
    told = OutboxMessage.objects.filter(topic="blocking.created").values_list("payload", flat=True)
    assert {tuple(p["bookings"]) for p in told} == {(meeting.pk,)}


@pytest.mark.django_db
def test_the_admin_names_its_sections_in_words_people_use(client, superuser):
    client.force_login(superuser)
    index = client.get(reverse("admin:index")).content.decode()
    assert "raum]für[raum · Verwaltung" in index
    assert "Anmeldeversuche und Sperren" in index and ">Axes<" not in index


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, kind, link",
    [("de", "Raum – Ausstattung", "Elbe – Beamer"), ("en", "Room – equipment", "Elbe – Projector")],
)
def test_it_names_link_rows_by_both_ends_not_as_technical_objects(client, superuser, language, kind, link):
    beamer = factories.equipment("projector", "Beamer")
    beamer.name_en = "Projector"
    beamer.save()
    factories.room(name="Elbe", equipment_codes=("projector",))
    client.force_login(superuser)
    page = client.get(
        reverse("admin:bookings_equipment_delete", args=[beamer.pk]), headers={"accept-language": language}
    ).content.decode()
    assert "object (" not in page and "relationship" not in page
    assert f"{kind}: {link}" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, said",
    [("de", "Ortszeit New York (America/New_York)"), ("en", "Local time in New York (America/New_York)")],
)
def test_a_blocking_s_span_is_typed_and_shown_in_the_place_s_zone(client, fiona, language, said):
    new_york = factories.site("Hudson Yards", time_zone="America/New_York")
    room = factories.room(factories.floor(factories.building(new_york)), name="H1.03")
    day = factories.days_ahead(3)
    client.force_login(fiona)
    response = client.post(
        reverse("admin:bookings_blocking_add"),
        blocking_form(room, day),
        headers={"accept-language": language},
    )
    assert response.status_code == 302
    blocking = Blocking.objects.get()
    new_york_tz = new_york.tz
    assert blocking.span.lower == factories.on(day, 8, tz=new_york_tz)  # 08:00 in New York, not in Berlin

    page = client.get(
        reverse("admin:bookings_blocking_change", args=[blocking.pk]), headers={"accept-language": language}
    ).content.decode()
    assert said in page
    shown = re.search(r'name="span_0" value="([^"]+)"', page).group(1)
    assert shown.endswith(" 08:00:00"), shown  # shown in New York time again, not 14:00 Berlin
    listing = client.get(reverse("admin:bookings_blocking_changelist")).content.decode()
    assert "(New York)" in listing


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, approval, duration, hours, nowhere",
    [
        (
            "de",
            "erbt (Gebäude: ja)",
            "erbt (Standort: 120)",
            "erbt (Gebäude: Montag 08:00–18:00)",
            "erbt: nirgends gesetzt (keine Grenze)",
        ),
        (
            "en",
            "inherits (Building: yes)",
            "inherits (Site: 120)",
            "inherits (Building: Monday 08:00–18:00)",
            "inherits: set nowhere (no limit)",
        ),
    ],
)
def test_empty_rule_fields_say_what_they_inherit_and_from_where(
    client, fiona, room, language, approval, duration, hours, nowhere
):

    building = room.floor.building
    Policy.objects.create(site=building.site, max_duration_minutes=120)
    wider = Policy.objects.create(building=building, requires_approval=True)
    PolicyHours.objects.create(policy=wider, weekday=1, opens="08:00", closes="18:00")
    own = Policy.objects.create(room=room, max_advance_days=30)
    client.force_login(fiona)

    page = client.get(
        reverse("admin:bookings_policy_change", args=[own.pk]), headers={"accept-language": language}
    ).content.decode()

    assert f'<option value="unknown" selected>{approval}</option>' in page
    assert f'placeholder="{duration}"' in page
    assert hours in page
    assert f'placeholder="{nowhere}"' in page  # minimum notice: no place sets it
    assert "Unbekannt" not in page and "Unknown" not in page
    assert 'name="max_advance_days" value="30"' in page  # its own value stays as it is


def policy_form(policy: Policy, **changes) -> dict:
    """The policy's change form as posted, with ``changes``."""
    data = {"room": policy.room_id or "", "building": policy.building_id or "", "site": policy.site_id or ""}
    data.update(
        {
            "hours-TOTAL_FORMS": "0",
            "hours-INITIAL_FORMS": "0",
            "hours-MIN_NUM_FORMS": "0",
            "hours-MAX_NUM_FORMS": "1000",
        }
    )
    for name in ("requires_approval", "requires_check_in", "series_allowed"):
        data[name] = "unknown"
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_rule_change_lists_the_bookings_it_would_break_before_saving(client, fiona, alice, bob, room):
    policy = Policy.objects.create(room=room)
    long_one = booking_at(room, alice, 10, "Klausur")
    long_one.span = type(long_one.span)(long_one.span.lower, long_one.span.lower + timedelta(hours=3))
    long_one.save()
    booking_at(room, bob, 15, "Kurz")  # 30 minutes: fits the new rule
    client.force_login(fiona)
    change = reverse("admin:bookings_policy_change", args=[policy.pk])

    first = client.post(change, policy_form(policy, max_duration_minutes="60"))
    page = first.content.decode()
    assert first.status_code == 200
    assert "1 anstehende Buchung verstößt gegen diese Regeln" in page
    assert "Klausur" in page and "Kurz" not in page
    policy.refresh_from_db()
    assert policy.max_duration_minutes is None  # nothing saved yet

    refused = client.post(
        change, policy_form(policy, max_duration_minutes="60", confirmed="on", affected="cancel")
    )
    assert "Bitte schreiben Sie den Organisatoren" in refused.content.decode()

    done = client.post(
        change,
        policy_form(
            policy, max_duration_minutes="60", confirmed="on", affected="cancel", message="Neue Regel"
        ),
    )
    assert done.status_code == 302
    policy.refresh_from_db()
    long_one.refresh_from_db()
    assert policy.max_duration_minutes == 60
    assert long_one.status == "cancelled"
    assert BookingEvent.objects.filter(booking=long_one, kind="cancelled").count() == 1
    assert Booking.objects.get(title="Kurz").status == "confirmed"


@pytest.mark.django_db
def test_a_rule_change_can_keep_the_bookings_it_would_break(client, fiona, alice, room):
    policy = Policy.objects.create(room=room)
    meeting = booking_at(room, alice, 10, "Planung")
    client.force_login(fiona)
    change = reverse("admin:bookings_policy_change", args=[policy.pk])
    group = Group.objects.create(name="Facility")  # only this group may book from now on
    response = client.post(change, policy_form(policy, bookers=[group.pk], confirmed="on", affected="keep"))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == "confirmed"
    assert list(Policy.objects.get(pk=policy.pk).bookers.all()) == [group]


@pytest.mark.django_db
def test_a_change_to_the_bookable_hours_lists_the_bookings_outside_them_before_saving(
    client, fiona, alice, bob, room
):
    """Hours are a rule too: the preview sees the hours inline as posted, not as stored."""
    policy = Policy.objects.create(room=room)
    early = booking_at(room, alice, 10, "Frühbesprechung")
    booking_at(room, bob, 15, "Nachmittag")  # inside the new hours
    weekday = early.start.astimezone(room.floor.building.site.tz).isoweekday()
    hours = {
        "hours-TOTAL_FORMS": "1",
        "hours-0-weekday": str(weekday),
        "hours-0-opens": "14:00",
        "hours-0-closes": "18:00",
    }
    client.force_login(fiona)
    change = reverse("admin:bookings_policy_change", args=[policy.pk])

    first = client.post(change, {**policy_form(policy), **hours})
    page = first.content.decode()
    assert first.status_code == 200
    assert "1 anstehende Buchung verstößt gegen diese Regeln" in page
    assert "Frühbesprechung" in page and "Nachmittag" not in page
    assert not PolicyHours.objects.filter(policy=policy).exists()  # nothing saved yet

    kept = client.post(change, {**policy_form(policy, confirmed="on", affected="keep"), **hours})
    assert kept.status_code == 302
    assert list(PolicyHours.objects.filter(policy=policy).values_list("weekday", flat=True)) == [weekday]
    early.refresh_from_db()
    assert early.status == "confirmed"  # kept as booked
