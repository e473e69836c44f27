"""The system status page: the /metrics figures in words, with what to do, for staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from bookings.models import OutboxMessage
from integrations.directory.models import SyncState

EN = {"Accept-Language": "en"}


def late_mail(minutes: int) -> None:
    message = OutboxMessage.objects.create(
        channel="mail", topic="booking.created", payload={}, available_at=timezone.now()
    )
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.django_db
def test_it_tells_staff_that_all_is_well(client, fiona):
    client.force_login(fiona)

    page = client.get("/ops/status/", headers=EN).content.decode()

    assert "System status" in page
    assert "PostgreSQL and Redis answer." in page
    assert "Problem" not in page


@pytest.mark.django_db
def test_it_says_the_outbox_is_backing_up_and_what_to_do(client, fiona):
    with time_machine.travel(timezone.now(), tick=False):
        late_mail(25)
        late_mail(3)
        client.force_login(fiona)
        page = client.get("/ops/status/", headers=EN).content.decode()

    assert "The outbox is backing up: 2 messages wait, the oldest for 25 minutes." in page
    assert "Check that the Celery worker and beat run" in page
    # Problems first.
    assert page.index("backing up") < page.index("PostgreSQL and Redis answer.")


@pytest.mark.django_db
def test_it_says_so_in_german_by_default(client, fiona):
    with time_machine.travel(timezone.now(), tick=False):
        late_mail(25)
        client.force_login(fiona)
        page = client.get("/ops/status/").content.decode()

    assert "Systemzustand" in page
    assert "Der Postausgang staut sich: 1 Nachrichten warten, die älteste seit 25 Minuten." in page
    assert "Was zu tun ist:" in page


@pytest.mark.django_db
@override_settings(RFR_LDAP=object())
def test_it_says_the_directory_sync_has_stopped(client, fiona):
    SyncState.objects.create(name="default", last_run_at=timezone.now() - timedelta(hours=2))
    client.force_login(fiona)

    page = client.get("/ops/status/", headers=EN).content.decode()

    assert "The directory sync has stopped: it last finished 120 minutes ago." in page


@pytest.mark.django_db
@override_settings(RFR_LDAP=object())
def test_it_says_a_recent_directory_sync_is_fine(client, fiona):
    SyncState.objects.create(name="default", last_run_at=timezone.now() - timedelta(minutes=10))
    client.force_login(fiona)

    page = client.get("/ops/status/", headers=EN).content.decode()

    assert "Last finished 10 minutes ago." in page
    assert "has stopped" not in page


@pytest.mark.django_db
def test_it_is_for_staff_only(client, alice):
    assert client.get("/ops/status/").status_code == 302
    client.force_login(alice)

    response = client.get("/ops/status/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


@pytest.mark.django_db
def test_it_is_linked_from_the_header_and_the_admin_for_staff_only(client, fiona, alice):
    client.force_login(fiona)
    assert 'href="/ops/status/"' in client.get("/my/", headers=EN).content.decode()
    assert 'href="/ops/status/"' in client.get("/admin/", headers=EN).content.decode()

    client.force_login(alice)
    assert 'href="/ops/status/"' not in client.get("/my/", headers=EN).content.decode()


@pytest.mark.django_db
def test_the_status_page_names_the_product_once_in_its_title(client, django_user_model):
    staff = django_user_model.objects.create_user("sven", "sven@example.com", "sven-pw-123", is_staff=True)
    client.force_login(staff)
    page = client.get("/ops/status/").content.decode()
    title = page.split("<title>")[1].split("</title>")[0]
    assert title.count("raum]für[raum") == 1, title
