"""The provider hears of each new and cancelled order line by mail, through the outbox."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from bookings import outbox
from bookings.models import OutboxMessage
from bookings.services import cancel_booking
from orders import services
from tests import factories
from tests.bookings.test_notifications import inbox, smtp_server  # noqa: F401  (a real SMTP server)
from tests.helpers import at

pytestmark = pytest.mark.django_db


def deliver_provider_mail() -> list[bool]:
    ids = OutboxMessage.objects.filter(channel="provider_mail", delivered_at__isnull=True).order_by("pk")
    return [outbox.deliver(pk) for pk in ids.values_list("pk", flat=True)]


@pytest.mark.usefixtures("alice_pays")
def test_it_mails_the_kitchen_a_new_and_a_cancelled_line(inbox, room, alice, coffee):  # noqa: F811
    meeting = factories.booking(room, alice, at(date(2027, 3, 10), 9))
    with time_machine.travel(at(date(2027, 3, 9), 10), tick=True):
        services.order_service(booking=meeting, item=coffee, actor=alice, note="mit Hafermilch")
        cancel_booking(booking=meeting, actor=alice)
        assert all(deliver_provider_mail())

    subjects = [m["Subject"] for m in inbox.to("kantine@example.com")]
    assert subjects == ["Neue Bestellung: Kaffee, 10.03.2027 09:00", "Storniert: Kaffee, 10.03.2027 09:00"]
    assert "mit Hafermilch" in inbox.to("kantine@example.com")[0].get_content()
