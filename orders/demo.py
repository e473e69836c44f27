"""Demo data for services (called by seed_demo; safe to run again): providers, items, cost centres, orders.

Some orders lie on past bookings, so the demo's first `manage.py export_sap` has lines.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings.models import Booking, Room, Site
from bookings.spans import make_span

from .models import (
    BookingCostCentre,
    CostCentre,
    DayListLook,
    Item,
    Order,
    Provider,
    RoomPrice,
    SiteAccounting,
    UserCostCentre,
)
from .money import charge

CENTRES = [
    ("4711", "Kantine"),
    ("4720", "Haustechnik"),
    ("4730", "IT-Service"),
    ("2100", "Vertrieb"),
    ("2200", "Marketing"),
    ("3100", "Entwicklung"),
]
# provider, sender cost centre, [(name, name_en, unit, price, activity type, needs note, cut-off days)]
CATALOGUE = [
    (
        "Kantine",
        "4711",
        [
            ("Kaffee und Tee", "Coffee and tea", "person", "2.50", "KAFF", False, 1),
            ("Mineralwasser", "Mineral water", "piece", "1.20", "GETR", False, 1),
            ("Mittagessen", "Lunch", "person", "12.90", "LUNCH", True, 1),
            ("Gebäck", "Pastries", "person", "1.80", "KAFF", False, 1),
        ],
    ),
    ("Haustechnik", "4720", [("Bestuhlung umbauen", "Rearrange chairs", "flat", "45.00", "HTEC", True, 2)]),
    ("IT-Service", "4730", [("Beamer aufbauen", "Set up a projector", "flat", "30.00", "ITSV", False, 1)]),
]
PAYERS = {"demo": "2100", "admin": "3100", "mmuster": "2100", "ebauer": "2200", "tkoch": "3100"}
DEMO_TITLE = "Kundentermin mit Bewirtung"


def seed() -> str:
    """Create or update the demo catalogue and orders; returns a line for the command's output."""
    centres = {
        code: CostCentre.objects.update_or_create(code=code, defaults={"name": name})[0]
        for code, name in CENTRES
    }
    User = get_user_model()
    for username, code in PAYERS.items():
        user = User.objects.filter(username=username).first()
        if user:
            UserCostCentre.objects.update_or_create(user=user, defaults={"cost_centre": centres[code]})
    kitchen_group, _ = Group.objects.get_or_create(name="Kantine")
    demo = User.objects.filter(username="demo").first()
    if demo:
        # The demo user works the kitchen's day list too, to see both sides.
        demo.groups.add(kitchen_group)
    for site in Site.objects.all():
        for name, code, items in CATALOGUE:
            provider, _ = Provider.objects.update_or_create(
                site=site,
                name=name,
                defaults={
                    "email": f"{name.lower().replace('-', '')}@example.com",
                    "cost_centre": centres[code],
                    "group": kitchen_group if name == "Kantine" else None,
                },
            )
            for de, en, unit, price, activity, needs_note, days in items:
                Item.objects.update_or_create(
                    provider=provider,
                    name=de,
                    defaults={
                        "name_en": en,
                        "unit": unit,
                        "price": Decimal(price),
                        "activity_type": activity,
                        "needs_note": needs_note,
                        "cutoff_days": days,
                        "late_charge_percent": 50,
                    },
                )
    first_site = Site.objects.order_by("pk").first()
    if first_site and not RoomPrice.objects.filter(site=first_site).exists():
        # Rooms of the first site have internal prices; the cheapest tariff is charged.
        RoomPrice.objects.create(
            site=first_site,
            per_hour=Decimal("15.00"),
            per_half_day=Decimal("50.00"),
            per_day=Decimal("90.00"),
            currency="EUR",
            activity_type="RAUM",
            cost_centre=centres["4720"],
        )
    if first_site:
        # ... and a booking there needs a cost centre (the demo's people have one, see PAYERS).
        SiteAccounting.objects.get_or_create(site=first_site, defaults={"require_cost_centre": True})
    made = (_orders(demo) + _tomorrow(demo)) if demo else 0
    return f"{Item.objects.count()} service items, {made} new demo orders."


def _orders(demo) -> int:
    """A catered meeting last week and one next week, for the demo user, in the first site's first room."""
    room = Room.objects.filter(bookable=True).select_related("floor__building__site").order_by("pk").first()
    if room is None:
        return 0
    tz = room.floor.building.site.tz
    today = timezone.now().astimezone(tz).date()
    made = 0
    for days in (-7, 7):
        day = today + timedelta(days=days)
        while day.isoweekday() > 5:
            day += timedelta(days=1)
        start = datetime.combine(day, time(7), tz)
        if Booking.objects.filter(room=room, title=DEMO_TITLE, span__startswith=start).exists():
            continue
        booking = Booking(
            room=room,
            span=make_span(start, start + timedelta(hours=1)),
            organizer=demo,
            title=DEMO_TITLE,
            attendees=["kunde@example.com", "mmuster@example.com", "ebauer@example.com"],
            source=Booking.Source.IMPORT,
        )
        try:
            with transaction.atomic():
                booking.save()
        except IntegrityError:
            continue  # the slot is taken: no demo meeting this time
        payer = UserCostCentre.objects.get(user=demo).cost_centre
        if days > 0:
            # Next week's customer meeting names its own cost centre: room and lines go to marketing.
            payer = CostCentre.objects.get(code="2200")
            BookingCostCentre.objects.create(
                booking=booking, cost_centre=payer, set_by=demo, set_at=timezone.now()
            )
        for item_name, quantity, note in (("Kaffee und Tee", 4, ""), ("Mittagessen", 4, "1× vegetarisch")):
            item = Item.objects.get(provider__site=room.floor.building.site, name=item_name)
            # Written directly, as an import: the past order's cut-off has long passed.
            Order.objects.create(
                booking=booking,
                item=item,
                quantity=quantity,
                price=item.price,
                amount=charge(quantity, item.price),
                currency=item.currency,
                deliver_at=start,
                note=note,
                cost_centre=payer,
                ordered_by=demo,
                created_at=start - timedelta(days=2),
                # Next week's lines are in the kitchen's first daily summary.
                changed_at=min(start - timedelta(days=2), timezone.now()),
                status=Order.Status.DELIVERED if days < 0 else Order.Status.ORDERED,
            )
            made += 1
    return made


def _tomorrow(demo) -> int:
    """Coffee for tomorrow's 10:00 in the first room, ordered after the demo user's last look at the
    kitchen's day list, so the list marks it "new"."""
    room = Room.objects.filter(bookable=True).select_related("floor__building__site").order_by("pk").first()
    if room is None:
        return 0
    site = room.floor.building.site
    kitchen = Provider.objects.filter(site=site, name="Kantine").first()
    item = Item.objects.filter(provider=kitchen, name="Kaffee und Tee").first()
    if item is None:
        return 0
    now = timezone.now()
    start = datetime.combine(now.astimezone(site.tz).date() + timedelta(days=1), time(10), site.tz)
    title = "Abstimmung mit der Kantine"
    if Booking.objects.filter(room=room, title=title, span__startswith=start).exists():
        return 0
    booking = Booking(
        room=room,
        span=make_span(start, start + timedelta(hours=1)),
        organizer=demo,
        title=title,
        attendees=["mmuster@example.com", "ebauer@example.com"],
        source=Booking.Source.IMPORT,
    )
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        return 0  # the slot is taken
    DayListLook.objects.get_or_create(
        provider=kitchen, user=demo, defaults={"seen_at": now - timedelta(hours=2)}
    )
    Order.objects.create(
        booking=booking,
        item=item,
        quantity=3,
        price=item.price,
        amount=charge(3, item.price),
        currency=item.currency,
        deliver_at=start,
        note="1× koffeinfrei",
        cost_centre=UserCostCentre.objects.get(user=demo).cost_centre,
        ordered_by=demo,
        created_at=now - timedelta(hours=1),
        changed_at=now - timedelta(hours=1),
    )
    return 1
