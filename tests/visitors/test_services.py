"""Visits through the services: registered with or without a booking, checked in and out at
reception, walk-ins, and a booking's changes reaching its visitors."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bookings import services as booking_services
from bookings.errors import InvalidBooking, NotAllowed
from bookings.models import Booking
from tests import factories
from tests.visitors.conftest import GUEST, GUEST_EN, deliver, thursday
from visitors import services
from visitors.models import Visit, VisitEvent, Visitor

pytestmark = pytest.mark.django_db


def book(room, alice) -> Booking:
    return booking_services.create_booking(
        room=room, organizer=alice, title="Vertragsverhandlung", start=thursday(10), end=thursday(11)
    )


def test_it_registers_visitors_with_a_booking(monday, room, alice, reception):
    booking = book(room, alice)
    visit = services.register_visit(host=alice, booking=booking, visitors=[GUEST, GUEST_EN])
    assert (visit.start, visit.end, visit.building) == (thursday(10), thursday(11), room.floor.building)
    assert [v.name for v in visit.visitors.order_by("pk")] == ["Dr. Eva Gast", "John Guest"]
    assert {v.status for v in visit.visitors.all()} == {"expected"}
    kinds = list(VisitEvent.objects.filter(visit=visit).order_by("pk").values_list("kind", flat=True))
    assert kinds == ["registered", "added", "added"]


def test_it_registers_a_visit_without_a_room(monday, building, alice):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(14), end=thursday(16), visitors=[GUEST]
    )
    assert visit.booking is None
    assert visit.visitors.get().email == "eva@kunde.example"


def test_it_refuses_visitors_for_someone_elses_booking(monday, room, alice, bob):
    booking = book(room, alice)
    with pytest.raises(NotAllowed):
        services.register_visit(host=bob, booking=booking, visitors=[GUEST])
    assert not Visit.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "  ", "email": "a@b.example"}, "name"),
        ({"name": "Eva", "email": "not-an-address"}, "email"),
        ({"name": "Eva"}, "email"),
        ({"name": "Eva", "email": "a@b.example", "language": "fr"}, "language"),
        ({"name": "E" * 201, "email": "a@b.example"}, "name"),
        ({"name": "Eva", "email": "a@b.example", "shoe_size": "42"}, "shoe_size"),
    ],
)
def test_it_refuses_bad_visitor_data_naming_the_field(monday, building, alice, data, field):
    with pytest.raises(InvalidBooking) as refused:
        services.register_visit(
            host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[data]
        )
    assert refused.value.field == field
    assert not Visit.objects.exists()


def test_it_takes_a_licence_plate_only_where_the_site_offers_parking(monday, building, alice, reception):
    guest = {**GUEST, "licence_plate": "b-rf 2026"}
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[guest]
    )
    assert visit.visitors.get().licence_plate == "B-RF 2026"
    reception.offers_parking = False
    reception.save()
    with pytest.raises(InvalidBooking) as refused:
        services.register_visit(
            host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[guest]
        )
    assert refused.value.field == "licence_plate"


def test_it_refuses_a_visit_that_ends_before_it_starts(monday, building, alice):
    with pytest.raises(InvalidBooking) as refused:
        services.register_visit(
            host=alice, building=building, start=thursday(10), end=thursday(9), visitors=[GUEST]
        )
    assert refused.value.field == "end"


def test_it_checks_a_visitor_in_and_out_and_records_the_times(monday, building, alice, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    visitor = visit.visitors.get()
    monday.move_to(thursday(8, 55))
    services.check_in_visitor(visitor=visitor, actor=rita)
    monday.move_to(thursday(10, 5))
    services.check_out_visitor(visitor=visitor, actor=rita)
    visitor.refresh_from_db()
    assert (visitor.status, visitor.arrived_at, visitor.left_at) == ("left", thursday(8, 55), thursday(10, 5))
    kinds = list(
        VisitEvent.objects.filter(visitor=visitor).order_by("pk").values_list("kind", "actor__username")
    )
    assert kinds == [("added", "alice"), ("arrived", "rita"), ("left", "rita")]


def test_it_lets_only_reception_check_in(monday, building, alice, bob, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    with pytest.raises(NotAllowed):
        services.check_in_visitor(visitor=visit.visitors.get(), actor=bob)
    assert visit.visitors.get().status == "expected"


def test_it_refuses_reception_of_another_site(monday, building, alice, rita):
    elsewhere = factories.building()
    visit = services.register_visit(
        host=alice, building=elsewhere, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    with pytest.raises(NotAllowed):
        services.check_in_visitor(visitor=visit.visitors.get(), actor=rita)


def test_it_refuses_to_check_out_someone_who_never_arrived(monday, building, alice, rita):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    with pytest.raises(InvalidBooking):
        services.check_out_visitor(visitor=visit.visitors.get(), actor=rita)


def test_it_derives_overdue_from_the_time(monday, building, alice):
    visit = services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST]
    )
    visitor = visit.visitors.get()
    assert visitor.state(thursday(9, 14)) == "expected"
    assert visitor.state(thursday(9, 15)) == "overdue"


def test_it_registers_a_walk_in_as_arrived(monday, building, alice, rita):
    monday.move_to(thursday(11))
    visitor = services.register_walk_in(
        building=building, host=alice, actor=rita, data={"name": "Paketbote", "company": "DHL"}
    )
    assert (visitor.status, visitor.arrived_at, visitor.walk_in) == ("arrived", timezone.now(), True)
    assert visitor.visit.host == alice


def test_it_refuses_a_walk_in_from_someone_not_at_reception(monday, building, alice, bob):
    with pytest.raises(NotAllowed):
        services.register_walk_in(building=building, host=alice, actor=bob, data={"name": "X"})
    assert not Visitor.objects.exists()


def test_it_cancels_the_visit_when_the_booking_is_cancelled(monday, room, alice):
    booking = book(room, alice)
    visit = services.register_visit(host=alice, booking=booking, visitors=[GUEST])
    booking_services.cancel_booking(booking=booking, actor=alice)
    deliver()
    visit.refresh_from_db()
    assert visit.is_cancelled
    assert visit.visitors.get().status == "cancelled"


def test_it_moves_the_visit_with_its_booking(monday, room, alice):
    booking = book(room, alice)
    visit = services.register_visit(host=alice, booking=booking, visitors=[GUEST])
    booking_services.update_booking(booking=booking, actor=alice, start=thursday(14), end=thursday(15))
    deliver()
    visit.refresh_from_db()
    assert (visit.start, visit.end, visit.version) == (thursday(14), thursday(15), 2)
    assert VisitEvent.objects.filter(visit=visit, kind="changed", actor=None).count() == 1
