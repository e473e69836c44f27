"""A booking's own cost centre: its room is charged there and its lines default to it; else the organizer's.

Named in the dialog (with the services, or alone for a priced room), on the booking's services
page and through the API; an unknown or expired one is refused with the reason, nothing written.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine

from bookings.models import Booking
from orders import services
from orders.export import export_batch
from orders.models import BookingCostCentre, CostCentre, Order, RoomPrice, SiteAccounting
from tests import factories
from tests.helpers import assert_clean_error, at, post_booking, text

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY = date(2027, 3, 9), date(2027, 3, 10)


@pytest.fixture
def projects(centres):
    return CostCentre.objects.create(code="3300", name="Projekt Spree")


@pytest.fixture
def priced(room, centres):
    """The room costs 20 EUR an hour, charged by the kitchen's cost centre."""
    return RoomPrice.objects.create(
        room=room, per_hour=Decimal("20.00"), activity_type="RAUM", cost_centre=centres["kitchen"]
    )


@pytest.fixture
def signed_in(client, alice):
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        client.force_login(alice)
        yield client


def export_lines(settings, tmp_path, now) -> list[dict]:
    settings.RFR_SAP_EXPORT_DIR = tmp_path
    result = export_batch(now=now)
    co = next(Path(p) for p in result.paths if Path(p).name.startswith("rfr-co-") and str(p).endswith(".csv"))
    return list(csv.DictReader(io.StringIO(co.read_text(encoding="utf-8-sig"))))


# --- the dialog ------------------------------------------------------------------------------


@pytest.mark.usefixtures("alice_pays")
def test_the_dialogs_cost_centre_pays_for_the_room_and_the_coffee(
    settings, tmp_path, signed_in, room, coffee, projects, priced
):
    response = post_booking(signed_in, room, WEDNESDAY, **{"svc0-item": coffee.pk, "svc-cost_centre": "3300"})

    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.cost_allocation.cost_centre == projects
    assert Order.objects.get().cost_centre == projects
    lines = export_lines(settings, tmp_path, now=at(WEDNESDAY, 11))
    # The room line and the coffee line both go to 3300, not to alice's default 2100.
    assert sorted(
        (line["activity_type"], line["receiver_cost_centre"], line["amount"]) for line in lines
    ) == [
        ("KAFF", "3300", "2.35"),
        ("RAUM", "3300", "20.00"),
    ]


@pytest.mark.usefixtures("alice_pays")
def test_without_one_the_room_goes_to_the_organizers_default(settings, tmp_path, room, alice, priced):
    factories.booking(room, alice, at(WEDNESDAY, 9))

    (line,) = export_lines(settings, tmp_path, now=at(WEDNESDAY, 11))
    assert line["receiver_cost_centre"] == "2100"


@pytest.mark.usefixtures("alice_pays", "priced")
def test_a_priced_room_without_a_catalogue_offers_only_the_cost_centre(signed_in, room, projects):
    page = text(signed_in.get("/book/", {"room": room.pk}))
    assert "Kostenzuordnung" in page and "Leistungen (optional)" not in page

    response = post_booking(signed_in, room, WEDNESDAY, **{"svc-cost_centre": "3300"})

    assert response.status_code == 302
    assert BookingCostCentre.objects.get().cost_centre == projects


@pytest.mark.usefixtures("alice_pays")
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("0000", "Es gibt keine Kostenstelle 0000."),
        ("1999", "Die Kostenstelle 1999 ist am 10.03.2027 nicht gültig."),
    ],
)
def test_the_dialog_refuses_an_unknown_or_expired_cost_centre_and_writes_nothing(
    signed_in, room, priced, code, expected
):
    response = post_booking(signed_in, room, WEDNESDAY, **{"svc-cost_centre": code})

    assert response.status_code == 422
    assert expected in text(response)
    assert not Booking.objects.exists() and not BookingCostCentre.objects.exists()


def test_a_site_that_requires_one_takes_the_booking_named_in_the_dialog(signed_in, room, priced, projects):
    # alice has no default: before, the booking was refused whatever the dialog named.
    SiteAccounting.objects.create(site=room.floor.building.site, require_cost_centre=True)

    refused = post_booking(signed_in, room, WEDNESDAY)
    booked = post_booking(signed_in, room, WEDNESDAY, **{"svc-cost_centre": "3300"})

    assert refused.status_code == 422
    assert "Sie haben keine Standard-Kostenstelle" in text(refused)
    assert booked.status_code == 302
    assert BookingCostCentre.objects.get().booking == Booking.objects.get()


@pytest.mark.usefixtures("alice_pays")
def test_a_new_series_names_it_on_every_date(signed_in, room, priced, projects):
    extra = {"freq": "daily", "ends": "count", "count": 3, "interval": 1, "svc-cost_centre": "3300"}
    response = post_booking(signed_in, room, WEDNESDAY, **extra)

    assert response.status_code == 302
    assert BookingCostCentre.objects.filter(cost_centre=projects).count() == 3


# --- lines ordered later, the services page and the API --------------------------------------


@pytest.mark.usefixtures("alice_pays")
def test_later_lines_default_to_the_bookings_cost_centre_and_may_name_another(room, alice, coffee, projects):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        from orders.booking_centre import set_booking_cost_centre

        set_booking_cost_centre(booking=meeting, actor=alice, code="3300")
        unnamed = services.order_service(booking=meeting, item=coffee, actor=alice)
        named = services.order_service(booking=meeting, item=coffee, actor=alice, cost_centre="2100")

    assert (unnamed.cost_centre.code, named.cost_centre.code) == ("3300", "2100")


@pytest.mark.usefixtures("alice_pays")
def test_the_services_page_names_the_cost_centre(signed_in, room, alice, projects):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    page = text(signed_in.get(f"/services/bookings/{meeting.pk}/"))
    assert "Standard-Kostenstelle des Organisators, 2100 Vertrieb" in page

    response = signed_in.post(f"/services/bookings/{meeting.pk}/cost-centre/", {"cost_centre": "3300"})

    assert response.status_code == 302
    assert "Diese Buchung wird 3300 Projekt Spree belastet." in text(signed_in.get(response["Location"]))


@pytest.mark.usefixtures("alice_pays")
def test_the_services_page_refuses_an_expired_cost_centre_on_its_field(signed_in, room, alice):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))

    response = signed_in.post(f"/services/bookings/{meeting.pk}/cost-centre/", {"cost_centre": "1999"})

    assert response.status_code == 422
    assert "Die Kostenstelle 1999 ist am 10.03.2027 nicht gültig." in text(response)
    assert not BookingCostCentre.objects.exists()


def test_the_services_page_is_the_organizers(client, room, alice, bob, centres):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    client.force_login(bob)

    response = client.post(f"/services/bookings/{meeting.pk}/cost-centre/", {"cost_centre": "2100"})

    assert response.status_code == 403
    assert not BookingCostCentre.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_the_api_names_reads_and_clears_it(client, room, alice, projects, token_for):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    headers = token_for(alice)
    url = f"/api/v1/bookings/{meeting.pk}/cost-centre"
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        named = client.put(url, {"cost_centre": "3300"}, content_type="application/json", headers=headers)
        read = client.get(url, headers=headers)
        cleared = client.put(url, {"cost_centre": None}, content_type="application/json", headers=headers)

    assert named.json() == {"booking": meeting.pk, "cost_centre": "3300", "charged_to": "3300"}
    assert read.json() == named.json()
    assert cleared.json() == {"booking": meeting.pk, "cost_centre": None, "charged_to": "2100"}


@pytest.mark.usefixtures("alice_pays")
def test_the_api_refuses_an_unknown_cost_centre_and_changes_nothing(client, room, alice, projects, token_for):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    headers = token_for(alice)
    url = f"/api/v1/bookings/{meeting.pk}/cost-centre"
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        client.put(url, {"cost_centre": "3300"}, content_type="application/json", headers=headers)
        response = client.put(url, {"cost_centre": "0000"}, content_type="application/json", headers=headers)

    assert assert_clean_error(response, 422)["detail"] == "Es gibt keine Kostenstelle 0000."
    assert BookingCostCentre.objects.get().cost_centre == projects


def test_the_api_hides_another_persons_booking(client, room, alice, bob, centres, token_for):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))

    response = client.put(
        f"/api/v1/bookings/{meeting.pk}/cost-centre",
        {"cost_centre": "2100"},
        content_type="application/json",
        headers=token_for(bob),
    )

    assert_clean_error(response, 404)
    assert not BookingCostCentre.objects.exists()


@pytest.mark.usefixtures("alice_pays")
def test_the_api_refuses_a_change_after_the_meeting(client, room, alice, token_for):
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(WEDNESDAY, 11), tick=False):
        response = client.put(
            f"/api/v1/bookings/{meeting.pk}/cost-centre",
            {"cost_centre": "2100"},
            content_type="application/json",
            headers=token_for(alice),
        )

    assert_clean_error(response, 403)
    assert not BookingCostCentre.objects.exists()
