"""The orders tests' scene: a Berlin site's kitchen with coffee and lunch, cost centres, alice's default."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from orders.models import CostCentre, Item, Provider, UserCostCentre


@pytest.fixture
def centres(db):
    return {
        "kitchen": CostCentre.objects.create(code="4711", name="Kantine"),
        "sales": CostCentre.objects.create(code="2100", name="Vertrieb"),
        "old": CostCentre.objects.create(code="1999", name="Aufgelöst", valid_to=date(2020, 12, 31)),
    }


@pytest.fixture
def kitchen(room, centres):
    return Provider.objects.create(
        site=room.floor.building.site,
        name="Kantine",
        email="kantine@example.com",
        cost_centre=centres["kitchen"],
    )


@pytest.fixture
def coffee(kitchen):
    """Per person, 2.35 EUR, by 14:00 the working day before, delivered weekdays 07:00–18:00."""
    return Item.objects.create(
        provider=kitchen,
        name="Kaffee",
        name_en="Coffee",
        unit=Item.Unit.PERSON,
        price=Decimal("2.35"),
        activity_type="KAFF",
        max_quantity=50,
        cutoff_days=1,
        cutoff_time=time(14),
        late_charge_percent=50,
    )


@pytest.fixture
def lunch(kitchen):
    return Item.objects.create(
        provider=kitchen,
        name="Mittagessen",
        name_en="Lunch",
        unit=Item.Unit.PERSON,
        price=Decimal("12.90"),
        activity_type="LUNCH",
        needs_note=True,
    )


@pytest.fixture
def alice_pays(alice, centres):
    UserCostCentre.objects.create(user=alice, cost_centre=centres["sales"])
    return centres["sales"]


@pytest.fixture
def cook(db, kitchen):
    """The kitchen's worker: a member of its group."""
    from django.contrib.auth.models import Group

    from tests import factories

    user = factories.user("koch")
    group = Group.objects.create(name="Kantine")
    user.groups.add(group)
    kitchen.group = group
    kitchen.save()
    return user
