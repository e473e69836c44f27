"""The report page: who may see it, the numbers in its tables, charts drawn without style or script."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth.models import Group, Permission
from openpyxl import load_workbook

from bookings.models import Policy
from tests import factories
from tests.reports.test_utilisation import MONDAY, at, office_hours, released

WEEK = {"period": "week", "start": MONDAY.isoformat()}
EN = {"Accept-Language": "en"}


@pytest.fixture
def analyst(db):
    user = factories.user("analyst")
    user.user_permissions.add(Permission.objects.get(codename="view_reports"))
    return user


@pytest.fixture
def atlas(db, alice):
    room = factories.room(
        factories.floor(factories.building(factories.site("Berlin", "Europe/Berlin"), "Haus A")),
        name="Atlas",
        capacity=12,
    )
    office_hours(room)
    factories.booking(room, alice, at(0, 9), minutes=120)
    released(room, alice, at(2, 10), minutes=120)
    return room


@pytest.mark.django_db
def test_it_shows_the_week_in_charts_and_tables(client, analyst, atlas):
    client.force_login(analyst)

    response = client.get("/reports/", {"place": f"room:{atlas.pk}", **WEEK}, headers=EN)
    page = response.content.decode()

    assert response.status_code == 200
    row = re.search(r"<th scope=\"row\">Atlas</th>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells[:9] == ["50.0", "4.0", "8.0 %", "4.0 %", "2", "1", "0", "50.0 %", "12"]
    assert page.count("<svg") == 3
    assert 'role="img"' in page
    # The CSP allows no inline style or script.
    assert " style=" not in page and "<script>" not in page


@pytest.mark.django_db
def test_it_speaks_german_by_default(client, analyst, atlas):
    client.force_login(analyst)

    page = client.get("/reports/", {"place": f"room:{atlas.pk}", **WEEK}).content.decode()

    assert "Auslastung" in page
    assert "8,0 %" in page


@pytest.mark.django_db
def test_it_shows_a_room_manager_only_the_rooms_they_manage(client, atlas, alice):
    other = factories.room(atlas.floor, name="Zeus")
    managers = Group.objects.create(name="Hausverwaltung A")
    manager = factories.user("maria")
    manager.groups.add(managers)
    Policy.objects.get(room=atlas).managers.add(managers)
    client.force_login(manager)

    page = client.get("/reports/", {"place": f"building:{atlas.floor.building_id}", **WEEK}).content.decode()
    foreign = client.get("/reports/", {"place": f"room:{other.pk}", **WEEK})

    assert ">Atlas<" in page and "Zeus" not in page
    assert foreign.status_code == 400  # not one of the places offered


@pytest.mark.django_db
def test_it_refuses_people_without_the_permission(client, alice, atlas):
    client.force_login(alice)

    assert client.get("/reports/").status_code == 403


@pytest.mark.django_db
def test_it_explains_a_bad_period_without_failing(client, analyst, atlas):
    client.force_login(analyst)

    response = client.get(
        "/reports/",
        {"place": f"room:{atlas.pk}", "period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
        headers=EN,
    )

    assert response.status_code == 400
    assert "Give a last day on or after the first." in response.content.decode()


@pytest.mark.django_db
def test_it_opens_on_last_month_of_the_first_place(client, analyst, atlas):
    client.force_login(analyst)

    response = client.get("/reports/", headers=EN)

    assert response.status_code == 200
    assert "Booked and used, per room" in response.content.decode()


@pytest.mark.django_db
def test_it_rounds_shares_once_and_half_up(client, analyst, atlas, alice):
    released(atlas, alice, at(4, 10), minutes=60)  # 2 of 3 bookings released: 66.666… %
    client.force_login(analyst)

    page = client.get("/reports/", {"place": f"room:{atlas.pk}", **WEEK}, headers=EN).content.decode()

    assert "66.7 %" in page


@pytest.mark.django_db
def test_it_exports_the_rooms_as_csv_with_the_same_numbers(client, analyst, atlas):
    client.force_login(analyst)

    response = client.get("/reports/rooms.csv", {"place": f"room:{atlas.pk}", **WEEK}, headers=EN)
    lines = response.content.decode("utf-8-sig").splitlines()

    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="utilisation-2026-03-23-rooms.csv"' in response["Content-Disposition"]
    assert lines[0].startswith("Room,Bookable hours,Booked hours,Used hours,booked,used,Bookings")
    assert lines[1] == "Atlas,50.00,4.00,2.00,0.0800,0.0400,2,1,0,0.5000,12,1.0"


@pytest.mark.django_db
def test_it_exports_every_table_as_an_excel_workbook(client, analyst, atlas):
    client.force_login(analyst)

    response = client.get("/reports/all.xlsx", {"place": f"room:{atlas.pk}", **WEEK})
    book = load_workbook(io.BytesIO(response.content))

    assert book.sheetnames == ["Räume", "Wochen", "Wochentag und Stunde", "Gruppen"]
    rooms = book["Räume"]
    assert [c.value for c in rooms[2]][:6] == ["Atlas", 50, 4, 2, 0.08, 0.04]
    assert rooms["E2"].number_format == "0.0%"
    assert book["Wochentag und Stunde"].max_row == 1 + 7 * 24


@pytest.mark.django_db
def test_it_refuses_exports_to_people_without_the_permission_and_explains_bad_periods(
    client, alice, analyst, atlas
):
    client.force_login(alice)
    assert client.get("/reports/rooms.csv", {"place": f"room:{atlas.pk}", **WEEK}).status_code == 403

    client.force_login(analyst)
    bad = client.get("/reports/rooms.csv", {"place": f"room:{atlas.pk}", "period": "week"}, headers=EN)
    assert bad.status_code == 400
    assert "This field is required." in bad.content.decode()
    assert client.get("/reports/nothing.csv", {"place": f"room:{atlas.pk}", **WEEK}).status_code == 404


@pytest.mark.django_db
def test_it_links_the_reports_from_the_header_for_those_who_may_see_them(client, analyst, atlas, alice):
    analyst.is_staff = True
    analyst.save()
    managers = Group.objects.create(name="Hausverwaltung A")
    manager = factories.user("maria")
    manager.groups.add(managers)
    Policy.objects.get(room=atlas).managers.add(managers)
    link = 'href="/reports/"'

    seen = {}
    for user in (analyst, manager, alice):
        client.force_login(user)
        seen[user.username] = link in client.get("/my/", headers=EN).content.decode()

    assert seen == {"analyst": True, "maria": True, "alice": False}
    client.force_login(analyst)
    assert link in client.get("/admin/", headers=EN).content.decode()
