"""A user's default cost centre (the admin's, else the directory's) and a site that requires one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone, translation

from bookings.errors import BookingError
from bookings.models import Booking
from bookings.services import create_booking
from integrations.directory.models import DirectoryAccount
from orders import costcentres, services
from orders.models import CostCentre, Order, RoomPrice, SiteAccounting, UserCostCentre
from tests import factories
from tests.helpers import at

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY = date(2027, 3, 9), date(2027, 3, 10)


def from_directory(user, department: str) -> None:
    DirectoryAccount.objects.create(
        user=user, external_id=f"guid-{user.pk}", department=department, synced_at=timezone.now()
    )


@pytest.fixture
def priced(room, centres):
    """The room costs 20 EUR an hour, and its site requires a cost centre."""
    RoomPrice.objects.create(room=room, per_hour=Decimal("20.00"), cost_centre=centres["kitchen"])
    return SiteAccounting.objects.create(site=room.floor.building.site, require_cost_centre=True)


def test_it_takes_the_default_from_the_directory_attribute(alice, centres):
    from_directory(alice, "2100 Vertrieb")

    assert costcentres.default_for(alice) == centres["sales"]


def test_it_prefers_the_admins_choice_to_the_directory(alice, centres):
    from_directory(alice, "2100")
    UserCostCentre.objects.create(user=alice, cost_centre=centres["kitchen"])

    assert costcentres.default_for(alice) == centres["kitchen"]


def test_it_ignores_the_directory_when_switched_off(alice, centres, settings):
    settings.RFR_COST_CENTRE_ATTRIBUTE = ""
    from_directory(alice, "2100")

    assert costcentres.default_for(alice) is None


def test_it_orders_on_the_directorys_cost_centre(room, alice, centres, coffee):
    from_directory(alice, "2100")
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(booking=meeting, item=coffee, actor=alice)

    assert line.cost_centre == centres["sales"]


@pytest.mark.parametrize(
    ("department", "expected"),
    [
        ("", "Bitte geben Sie eine Kostenstelle an: Sie haben keine Standard-Kostenstelle."),
        ("9999", "Bitte geben Sie eine Kostenstelle an: Sie haben keine Standard-Kostenstelle."),
        ("1999", "Die Kostenstelle 1999 ist am 10.03.2027 nicht gültig."),
    ],
)
def test_it_refuses_a_priced_room_without_a_valid_cost_centre_and_books_nothing(
    room, alice, centres, priced, department, expected
):
    if department:
        from_directory(alice, department)
    with time_machine.travel(at(TUESDAY, 10), tick=False), pytest.raises(BookingError) as refused:
        create_booking(
            room=room, organizer=alice, title="Planung", start=at(WEDNESDAY, 9), end=at(WEDNESDAY, 10)
        )

    assert refused.value.field == "cost_centre"
    assert refused.value.message.endswith(expected)
    assert not Booking.objects.exists()


def test_it_books_a_priced_room_with_the_directorys_cost_centre(room, alice, centres, priced):
    from_directory(alice, "2100")
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        create_booking(
            room=room, organizer=alice, title="Planung", start=at(WEDNESDAY, 9), end=at(WEDNESDAY, 10)
        )

    assert Booking.objects.count() == 1


def test_it_asks_for_nothing_where_the_site_does_not_require_it(room, alice, centres, priced):
    priced.require_cost_centre = False
    priced.save()
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        create_booking(
            room=room, organizer=alice, title="Planung", start=at(WEDNESDAY, 9), end=at(WEDNESDAY, 10)
        )

    assert Booking.objects.count() == 1


def test_the_dialog_explains_the_missing_cost_centre_in_english(client, room, alice, centres, priced):
    data = {
        "key": "k1",
        "room": room.pk,
        "date": WEDNESDAY.isoformat(),
        "start": "09:00",
        "end": "10:00",
        "title": "Planning",
    }
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        client.force_login(alice)
        response = client.post("/book/", data, headers={"accept-language": "en"})

    assert response.status_code == 422
    assert "charges this room to your cost centre: Please name a cost centre" in response.content.decode()
    assert not Booking.objects.exists() and not Order.objects.exists()


def test_an_unknown_named_cost_centre_is_refused_and_nothing_written(room, alice, alice_pays, coffee):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with translation.override("de"), pytest.raises(BookingError) as refused:
        services.order_service(
            booking=meeting, item=coffee, actor=alice, cost_centre="0000", now=at(TUESDAY, 10)
        )

    assert refused.value.message == "Es gibt keine Kostenstelle 0000."
    assert not Order.objects.exists() and CostCentre.objects.filter(code="0000").count() == 0


def test_it_does_not_ask_a_meeting_that_comes_from_exchange(room, alice, centres, priced):
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        create_booking(
            room=room,
            organizer=alice,
            title="Aus Outlook",
            start=at(WEDNESDAY, 9),
            end=at(WEDNESDAY, 10),
            source=Booking.Source.EXCHANGE,
        )

    assert Booking.objects.count() == 1
