"""The provider's day: today's and tomorrow's lines with where and for whom, the lines new or changed
since this worker's last look marked, status set forward only, and the list as PDF."""

from __future__ import annotations

import io
from datetime import date

import pytest
import time_machine
from pypdf import PdfReader

from orders import services
from orders.models import CostCentre, DayListLook, Order
from tests import factories
from tests.helpers import at, text

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY, WEDNESDAY, THURSDAY = (date(2027, 3, d) for d in (8, 9, 10, 11))


@pytest.fixture(autouse=True)
def long_sessions(settings):
    """Signed in now, the requests travel to March 2027: the session must outlast the trip."""
    settings.SESSION_COOKIE_AGE = 5 * 365 * 24 * 3600


def line(booking, item, *, quantity=2, note="", created=None, status=Order.Status.ORDERED):
    """A line written directly (for the scene): created on Monday unless told."""
    created = created or at(MONDAY, 12)
    return Order.objects.create(
        booking=booking,
        item=item,
        quantity=quantity,
        price=item.price,
        amount=item.price * quantity,
        currency="EUR",
        deliver_at=booking.span.lower,
        note=note,
        cost_centre=CostCentre.objects.get(code="2100"),
        ordered_by=booking.organizer,
        created_at=created,
        changed_at=created,
        status=status,
    )


@pytest.fixture
def scene(room, alice, coffee, lunch):
    alice.first_name, alice.last_name = "Alice", "Albers"
    alice.save()
    room.name = "Saal Elbe"
    room.save()
    floor = room.floor
    floor.name = "3. OG"
    floor.save()
    floor.building.name = "Haus A"
    floor.building.save()
    return {
        "today": line(
            factories.booking(room, alice, at(TUESDAY, 15), title="Jour fixe"), lunch, note="2× vegan"
        ),
        "early": line(factories.booking(room, alice, at(TUESDAY, 8), title="Frühstück"), coffee, quantity=7),
        "tomorrow": line(
            factories.booking(room, alice, at(WEDNESDAY, 9), title="Planung"), coffee, quantity=4
        ),
        "later": line(factories.booking(room, alice, at(THURSDAY, 9), title="Später"), coffee, quantity=9),
    }


def rows(page: str) -> list[str]:
    return [chunk.split("</tr>")[0] for chunk in page.split('<tr id="line-')[1:]]


def test_it_lists_today_and_tomorrow_by_delivery_time_with_where_and_whom(client, cook, kitchen, scene):
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        page = text(client.get(f"/services/providers/{kitchen.pk}/"))

    order = [int(row.split('"')[0]) for row in rows(page)]
    assert order == [scene["early"].pk, scene["today"].pk, scene["tomorrow"].pk]
    today = next(row for row in rows(page) if row.startswith(f'{scene["today"].pk}"'))
    for expected in ("15:00", "Mittagessen", ">2<", "Saal Elbe, 3. OG, Haus A", "2× vegan", "Alice Albers"):
        assert expected in today
    assert "Dienstag, 9. März 2027" in page and "Mittwoch, 10. März 2027" in page
    assert f'line-{scene["later"].pk}"' not in page


def test_it_marks_lines_new_or_changed_since_the_workers_last_look(client, cook, kitchen, scene, alice):
    url = f"/services/providers/{kitchen.pk}/"
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 7), tick=False):
        first = text(client.get(url))
    # The first look has nothing to compare with: nothing is marked.
    assert 'class="badge' not in first
    assert "erster Blick" in first

    with time_machine.travel(at(TUESDAY, 8), tick=False):
        services.cancel_order(order=scene["today"], actor=alice)
        fresh = line(scene["tomorrow"].booking, scene["tomorrow"].item, quantity=3, created=at(TUESDAY, 8))
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        second = text(client.get(url))
        english = text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))

    marks = {int(row.split('"')[0]): row for row in rows(second)}
    assert 'data-mark="new"' in marks[fresh.pk] and "neu<span" in marks[fresh.pk]
    assert 'data-mark="changed"' in marks[scene["today"].pk] and "geändert<span" in marks[scene["today"].pk]
    assert "seit Ihrem letzten Blick" in marks[fresh.pk]
    assert "storniert" in marks[scene["today"].pk]
    assert 'data-mark=""' in marks[scene["tomorrow"].pk] and 'class="badge' not in marks[scene["tomorrow"].pk]
    assert "07:00" in second  # the look compared with
    # The English page came right after the German one: nothing changed in between.
    assert 'class="badge' not in english

    with time_machine.travel(at(TUESDAY, 8, 30), tick=False):
        services.change_order(order=scene["tomorrow"], actor=alice, quantity=5)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        english = text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    assert 'class="badge' not in english  # 08:30 was before the 09:00 look

    with time_machine.travel(at(TUESDAY, 11), tick=False):
        services.change_order(order=scene["tomorrow"], actor=alice, quantity=6)
    with time_machine.travel(at(TUESDAY, 12), tick=False):
        english = text(client.get(url, HTTP_ACCEPT_LANGUAGE="en"))
    marks = {int(row.split('"')[0]): row for row in rows(english)}
    assert (
        "changed<span" in marks[scene["tomorrow"].pk]
        and "since your last look" in marks[scene["tomorrow"].pk]
    )


def test_each_worker_has_a_last_look_of_their_own(client, cook, kitchen, scene):
    colleague = factories.user("beikoch")
    colleague.groups.add(kitchen.group)
    url = f"/services/providers/{kitchen.pk}/"
    for user in (cook, colleague):
        client.force_login(user)
        with time_machine.travel(at(TUESDAY, 7), tick=False):
            client.get(url)
    with time_machine.travel(at(TUESDAY, 8), tick=False):
        fresh = line(scene["tomorrow"].booking, scene["tomorrow"].item, created=at(TUESDAY, 8))
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        assert 'data-mark="new"' in text(client.get(url))
    client.force_login(colleague)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        page = text(client.get(url))
    assert f'line-{fresh.pk}" data-mark="new"' in page
    assert DayListLook.objects.filter(provider=kitchen).count() == 2


def test_a_look_back_in_time_does_not_move_the_last_look(kitchen, cook):
    assert services.look_at_day_list(provider=kitchen, user=cook, now=at(TUESDAY, 9)) is None
    assert services.look_at_day_list(provider=kitchen, user=cook, now=at(TUESDAY, 8)) == at(TUESDAY, 9)
    assert DayListLook.objects.get().seen_at == at(TUESDAY, 9)


def test_the_provider_confirms_then_delivers_and_never_goes_back(client, cook, kitchen, scene):
    target = scene["tomorrow"]
    status_url = f"/services/providers/{kitchen.pk}/lines/{target.pk}/status/"
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        page = text(client.get(f"/services/providers/{kitchen.pk}/"))
        assert "Bestätigen" in rows(page)[2] and "Als geliefert markieren" in rows(page)[2]
        client.post(status_url, {"status": "confirmed"})
        target.refresh_from_db()
        assert target.status == Order.Status.CONFIRMED
        page = text(client.get(f"/services/providers/{kitchen.pk}/"))
        assert "bestätigt" in rows(page)[2] and "Bestätigen<" not in rows(page)[2]

        client.post(status_url, {"status": "delivered"})
        target.refresh_from_db()
        assert target.status == Order.Status.DELIVERED

        response = client.post(status_url, {"status": "confirmed"}, follow=True)
        target.refresh_from_db()
        assert target.status == Order.Status.DELIVERED
        assert response.status_code == 200
        assert "Diese Position ist bereits geliefert." in text(response)

        response = client.post(status_url, {"status": "cancelled"}, follow=True)
        assert "Dieser Status kann nicht gesetzt werden." in text(response)
        target.refresh_from_db()
        assert target.status == Order.Status.DELIVERED


def test_a_cancelled_line_shows_as_cancelled_and_takes_no_status(client, cook, kitchen, scene, alice):
    target = scene["tomorrow"]
    with time_machine.travel(at(TUESDAY, 9), tick=False):
        services.cancel_order(order=target, actor=alice)
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        row = rows(text(client.get(f"/services/providers/{kitchen.pk}/")))[2]
        response = client.post(
            f"/services/providers/{kitchen.pk}/lines/{target.pk}/status/",
            {"status": "confirmed"},
            follow=True,
        )
    assert "storniert" in row and "<button" not in row
    assert "Diese Bestellung wurde storniert." in text(response)
    target.refresh_from_db()
    assert target.status == Order.Status.CANCELLED


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_day_list_prints_as_pdf_with_its_lines(client, cook, kitchen, scene):
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        page = text(client.get(f"/services/providers/{kitchen.pk}/"))
        assert f'href="/services/providers/{kitchen.pk}/day.pdf"' in page
        german = pdf_text(client.get(f"/services/providers/{kitchen.pk}/day.pdf"))
        english = pdf_text(client.get(f"/services/providers/{kitchen.pk}/day.pdf", HTTP_ACCEPT_LANGUAGE="en"))

    for expected in (
        "Kantine: Bestellungen",
        "Dienstag, 9. März 2027",
        "Mittwoch, 10. März 2027",
        "15:00",
        "Mittagessen",
        "2× vegan",
        "Saal Elbe",
        "Haus A",
        "Alice Albers",
        "bestellt",
    ):
        assert expected in german, expected
    assert german.index("08:00") < german.index("15:00") < german.index("09:00")
    assert "Später" not in german and ">9<" not in german
    for expected in ("Kantine: orders", "Tuesday, March 9, 2027", "Lunch", "Coffee", "ordered"):
        assert expected in english, expected
    # Printing is not a look: only the page view counted.
    assert DayListLook.objects.get().seen_at == at(TUESDAY, 10)


def test_the_pdf_is_kept_from_others(client, alice, kitchen):
    client.force_login(alice)

    assert client.get(f"/services/providers/{kitchen.pk}/day.pdf").status_code == 403


def test_an_empty_day_prints_as_such(client, cook, kitchen):
    client.force_login(cook)
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        german = pdf_text(client.get(f"/services/providers/{kitchen.pk}/day.pdf"))
    assert german.count("Keine Bestellungen.") == 2


def test_erasing_a_worker_drops_their_last_look(kitchen, cook, django_user_model):
    from privacy.erasure import erase_person

    admin = django_user_model.objects.create_superuser("admin", "admin@example.com", "admin-pw-123")
    services.look_at_day_list(provider=kitchen, user=cook, now=at(TUESDAY, 9))
    erase_person(person=cook, actor=admin, now=at(TUESDAY, 10))

    assert not DayListLook.objects.exists()
