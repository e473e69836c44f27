"""The demo shows a former employee: erased once, their meetings kept, seeding twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from bookings.models import Booking
from privacy.erasure import PLACEHOLDER_USERNAME
from privacy.models import PrivacyEvent

pytestmark = pytest.mark.django_db


def test_it_seeds_an_erased_former_employee_once():
    call_command("seed_demo", stdout=StringIO())
    assert PrivacyEvent.objects.filter(kind="erased").count() == 1
    kept = Booking.objects.filter(organizer__username=PLACEHOLDER_USERNAME)
    assert kept.exists() and set(kept.values_list("title", flat=True)) == {""}
    assert not Booking.objects.filter(title="Übergabe an das Team").exists()
    call_command("seed_demo", stdout=StringIO())
    assert PrivacyEvent.objects.filter(kind="erased").count() == 1
