"""The visit admin shows a visit's times as its building reads them, the zone named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.helpers import text
from tests.visitors.conftest import GUEST
from visitors import services

pytestmark = pytest.mark.django_db


def test_the_visit_admin_shows_a_new_york_visit_in_new_york_time(admin_client, monday, building, alice):
    site = building.site
    site.time_zone = "America/New_York"
    site.save()
    # 15:00 UTC on Thursday 26 November 2026: 10:00 in New York, 16:00 in Berlin (the server's zone).
    start = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    visit = services.register_visit(
        host=alice, building=building, start=start, end=start.replace(hour=16), visitors=[GUEST]
    )

    page = text(admin_client.get(f"/admin/visitors/visit/{visit.pk}/change/"))
    listing = text(admin_client.get("/admin/visitors/visit/"))

    for shown in (page, listing):
        assert "10:00" in shown and "(New York)" in shown
        assert "16:00" not in shown
    assert "11:00" in page  # the end, in the same zone
