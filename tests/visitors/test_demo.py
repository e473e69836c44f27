"""The demo's visitors: a reception user who sees today's visitors, and seeding twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from visitors.models import Kiosk, Visitor

pytestmark = pytest.mark.django_db


def test_it_seeds_visitors_and_a_reception_user_once(client):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    count = Visitor.objects.count()
    assert count > 0
    assert "/kiosk/" in out.getvalue() and Kiosk.objects.count() == 1
    call_command("seed_demo", stdout=StringIO())
    assert Visitor.objects.count() == count and Kiosk.objects.count() == 1
    assert client.login(username="empfang", password="empfang-demo-2026")
    response = client.get("/reception/", follow=True)
    assert response.status_code == 200
    site = Visitor.objects.first().visit.building.site
    assert f"Empfang {site.name}" in response.content.decode()
