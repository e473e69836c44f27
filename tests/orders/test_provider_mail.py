"""The provider hears of its lines: singly once the cut-off has passed, before that in a daily summary."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from bookings import outbox
from bookings.models import OutboxMessage
from bookings.services import cancel_booking
from orders import services
from orders.models import ProviderSummary
from orders.summaries import send_due_summaries
from tests import factories
from tests.bookings.test_notifications import inbox, smtp_server  # noqa: F401  (a real SMTP server)
from tests.helpers import at

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY = date(2027, 3, 9), date(2027, 3, 10)


def deliver_provider_mail() -> list[bool]:
    ids = OutboxMessage.objects.filter(channel="provider_mail", delivered_at__isnull=True).order_by("pk")
    return [outbox.deliver(pk) for pk in ids.values_list("pk", flat=True)]


@pytest.mark.usefixtures("alice_pays")
def test_it_mails_the_kitchen_each_change_after_the_cut_off(inbox, room, alice, coffee):  # noqa: F811
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        line = services.order_service(
            booking=meeting, item=coffee, actor=alice, quantity=6, note="mit Hafermilch"
        )
    with time_machine.travel(at(TUESDAY, 15), tick=True):
        services.change_order(order=line, actor=alice, quantity=4, confirmed=True)
        cancel_booking(booking=meeting, actor=alice)
        assert all(deliver_provider_mail())

    subjects = [m["Subject"] for m in inbox.to("kantine@example.com")]
    assert subjects == ["Geändert: Kaffee, jetzt 10.03.2027 09:00", "Storniert: Kaffee, 10.03.2027 09:00"]
    assert "mit Hafermilch" in inbox.to("kantine@example.com")[0].get_content()


@pytest.mark.usefixtures("alice_pays")
def test_it_sends_no_single_mail_before_the_cut_off_but_one_summary_at_the_summary_time(
    inbox,  # noqa: F811
    room,
    alice,
    coffee,
    settings,
):
    settings.RFR_ORDER_SUMMARY_TIME = "13:30"
    meeting = factories.booking(room, alice, at(WEDNESDAY, 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice, quantity=5)
    assert not OutboxMessage.objects.filter(channel="provider_mail").exists()

    assert send_due_summaries(now=at(TUESDAY, 13, 29)) == []
    with time_machine.travel(at(TUESDAY, 13, 35), tick=True):
        assert len(send_due_summaries()) == 1
        assert send_due_summaries() == []  # once per provider and day
        assert all(deliver_provider_mail())

    (mail,) = inbox.to("kantine@example.com")
    assert mail["Subject"].strip() == "Tagesübersicht der Bestellungen: Kantine, 09.03.2027"
    assert "10.03.2027 09:00 Kaffee (bestellt)" in mail.get_content()
    assert "Menge: 5" in mail.get_content()
    assert ProviderSummary.objects.count() == 1


@pytest.mark.usefixtures("alice_pays")
def test_it_lists_only_what_changed_since_the_last_summary(room, alice, coffee, settings):
    settings.RFR_ORDER_SUMMARY_TIME = "13:30"
    meeting = factories.booking(room, alice, at(date(2027, 3, 12), 9))
    with time_machine.travel(at(TUESDAY, 10), tick=False):
        services.order_service(booking=meeting, item=coffee, actor=alice)
    send_due_summaries(now=at(TUESDAY, 14))
    (second,) = send_due_summaries(now=at(WEDNESDAY, 14))

    # Nothing changed on Wednesday: the summary is recorded, with nothing to mail.
    assert (second.since, second.until) == (at(TUESDAY, 13, 30), at(WEDNESDAY, 13, 30))
    assert OutboxMessage.objects.filter(channel="provider_mail").count() == 1
