"""Retention: visitors' personal data erased N days after the visit, exactly at the limit,
across a daylight-saving change, counted in the audit log without the names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from tests.visitors.conftest import GUEST, GUEST_EN, thursday
from visitors import services
from visitors.models import VisitEvent, Visitor
from visitors.retention import erase_visitor_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(monday, building, alice):
    return services.register_visit(
        host=alice, building=building, start=thursday(9), end=thursday(10), visitors=[GUEST, GUEST_EN]
    )


def test_it_keeps_data_until_the_limit_and_erases_it_exactly_at_it(visit):
    limit = thursday(10) + timedelta(days=30)
    assert erase_visitor_data(now=limit - timedelta(seconds=1), days=30).visitors == 0
    assert erase_visitor_data(now=limit, days=30).visitors == 2
    assert (
        list(Visitor.objects.values_list("name", "company", "email", "anonymised_at"))
        == [("", "", "", limit)] * 2
    )


def test_it_counts_days_as_elapsed_time_across_the_clock_change(monday, building, alice):
    # Ends Saturday 24 October 2026, 10:00 in Berlin (CEST); the clocks go back on the 25th.
    with time_machine.travel(datetime(2026, 10, 20, tzinfo=UTC), tick=False):
        visit = services.register_visit(
            host=alice,
            building=building,
            start=datetime(2026, 10, 24, 7, tzinfo=UTC),
            end=datetime(2026, 10, 24, 8, tzinfo=UTC),
            visitors=[GUEST],
        )
    one_day_later = visit.end + timedelta(days=1)  # 09:00 CET on the 25th: 24 hours, not a calendar day
    assert erase_visitor_data(now=one_day_later - timedelta(seconds=1), days=1).visitors == 0
    assert erase_visitor_data(now=one_day_later, days=1).visitors == 1


def test_it_keeps_the_visit_as_a_count_and_logs_without_names(visit):
    erase_visitor_data(now=thursday(10) + timedelta(days=31), days=30)
    assert visit.visitors.count() == 2
    event = VisitEvent.objects.get(kind="anonymised")
    assert event.changes == {"visitors": 2, "retention_days": 30}
    assert "Gast" not in str(VisitEvent.objects.values_list("changes", flat=True))


def test_it_shows_a_dry_run_and_changes_nothing(visit):
    out = StringIO()
    with time_machine.travel(thursday(10) + timedelta(days=40), tick=False):
        call_command("erase_visitor_data", "--dry-run", stdout=out)
        assert "would erase 2 visitors of 1 visits" in out.getvalue()
        assert Visitor.objects.filter(name="Dr. Eva Gast").exists()
        call_command("erase_visitor_data", stdout=out)
    assert not Visitor.objects.filter(name="Dr. Eva Gast").exists()


def test_it_leaves_a_visit_running_across_the_limit_alone(monday, building, alice):
    visit = services.register_visit(
        host=alice,
        building=building,
        start=thursday(9),
        end=thursday(9) + timedelta(days=40),
        visitors=[GUEST],
    )
    assert erase_visitor_data(now=thursday(10) + timedelta(days=31), days=30).visitors == 0
    assert visit.visitors.get().name == "Dr. Eva Gast"
