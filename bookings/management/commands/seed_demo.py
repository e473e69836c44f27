"""Demo data: two sites in different time zones, 52 rooms, users and a week of bookings.

Idempotent: places and users are matched by name; a week's bookings are written once.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from bookings.demo_attendees import seed_invitation
from bookings.demo_combined import seed_divisible_hall
from bookings.demo_delegates import seed_delegates
from bookings.demo_meetings import seed_meetings
from bookings.demo_waiting import seed_offer, seed_waiting
from bookings.models import Blocking, Booking, BookingEvent, Building, Equipment, Floor, Policy, Room, Site
from bookings.spans import make_span

ADMIN = ("admin", "admin-demo-2026")
DEMO = ("demo", "demo-demo-2026")
COLLEAGUES = ["mmuster", "ebauer", "tkoch", "lschmidt", "jwagner"]

EQUIPMENT = [
    ("projector", "Beamer", "Projector"),
    ("display", "Bildschirm", "Display"),
    ("video", "Videokonferenz", "Video conferencing"),
    ("whiteboard", "Whiteboard", "Whiteboard"),
    ("phone", "Konferenztelefon", "Conference phone"),
    ("accessible", "Barrierefrei", "Wheelchair accessible"),
]

# site, time zone, buildings: (name, address, floors, rooms per floor)
PLACES = [
    (
        "Berlin",
        "Europe/Berlin",
        [
            ("Haus A", "Friedrichstraße 100, 10117 Berlin", 4, 5),
            ("Haus B", "Friedrichstraße 102, 10117 Berlin", 3, 4),
            ("Campus Süd", "Am Borsigturm 40, 13507 Berlin", 2, 5),
        ],
    ),
    (
        "New York",
        "America/New_York",
        [
            ("Hudson Yards", "500 W 33rd St, New York, NY 10001", 2, 5),
        ],
    ),
]
ROOM_NAMES = [
    "Spree",
    "Havel",
    "Elbe",
    "Oder",
    "Rhein",
    "Main",
    "Isar",
    "Donau",
    "Weser",
    "Saale",
    "Mosel",
    "Neckar",
    "Ems",
    "Lahn",
    "Ruhr",
    "Fulda",
]
TITLES = [
    "Jour fixe",
    "Projektplanung",
    "Kundentermin",
    "Sprint-Review",
    "Bewerbungsgespräch",
    "Abteilungsrunde",
    "Workshop",
    "1:1",
    "Budgetrunde",
    "Schulung",
    "Team sync",
    "Architecture review",
    "Quarterly planning",
]

# The apps above bookings seed their own demo data; named, not imported, so bookings
# imports nothing above it. Each returns a line to print, or a count.
APP_DEMOS = (
    "reports.demo.seed_past_weeks",
    "integrations.directory.demo.seed_mail_groups",
    "orders.demo.seed",
    "visitors.demo.seed_visitors",
    "privacy.demo.seed_former_employee",
)


class Command(BaseCommand):
    help = "Create demo sites, rooms, users and a week of bookings (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        rng = random.Random(2026)
        equipment = self._equipment()
        rooms = self._places(rng, equipment)
        users = self._users()
        self._rules(rooms)
        created = self._week_of_bookings(rng, rooms, users)
        call_command("seed_exchange_demo")  # by name: bookings imports no app above it
        seed_divisible_hall(users[0])
        seed_delegates(users[0], manager=users[1], deputy=users[2])
        seed_waiting(users[0])
        seed_offer(users[0])
        seed_invitation(users[0])
        seed_meetings(users[0])
        self.stdout.write(
            f"{Site.objects.count()} sites, {Room.objects.count()} rooms, {created} new bookings this week."
        )
        for path in APP_DEMOS:
            said = import_string(path)()
            if isinstance(said, str):
                self.stdout.write(said)
        self.stdout.write(f"Sign in as {ADMIN[0]} / {ADMIN[1]} (superuser) or {DEMO[0]} / {DEMO[1]} (staff).")

    def _equipment(self) -> list[Equipment]:
        return [
            Equipment.objects.update_or_create(code=code, defaults={"name": de, "name_en": en})[0]
            for code, de, en in EQUIPMENT
        ]

    def _places(self, rng: random.Random, equipment: list[Equipment]) -> list[Room]:
        rooms = []
        for site_name, tz, buildings in PLACES:
            site, _ = Site.objects.get_or_create(name=site_name, defaults={"time_zone": tz})
            names = iter(ROOM_NAMES * 4)
            for b_name, address, floors, per_floor in buildings:
                building, _ = Building.objects.get_or_create(
                    site=site, name=b_name, defaults={"address": address}
                )
                for level in range(floors):
                    floor, _ = Floor.objects.get_or_create(
                        building=building, name=f"{level}. OG" if level else "EG", defaults={"level": level}
                    )
                    for n in range(per_floor):
                        capacity = rng.choice([4, 6, 8, 10, 12, 16, 20, 30, 50])
                        room, made = Room.objects.get_or_create(
                            floor=floor,
                            name=f"{building.name[:1]}{level}.{n + 1:02d} {next(names)}",
                            defaults={"capacity": capacity},
                        )
                        if made:
                            room.equipment.set(rng.sample(equipment, rng.randint(1, 4)))
                        rooms.append(room)
        return rooms

    def _users(self) -> list:
        User = get_user_model()
        admin, made = User.objects.get_or_create(
            username=ADMIN[0], defaults={"is_staff": True, "is_superuser": True, "email": "admin@example.com"}
        )
        if made:
            admin.set_password(ADMIN[1])
            admin.save()
        demo, made = User.objects.get_or_create(
            username=DEMO[0],
            defaults={
                "is_staff": True,
                "first_name": "Dana",
                "last_name": "Demo",
                "email": "demo@example.com",
            },
        )
        if made:
            demo.set_password(DEMO[1])
            demo.save()
            # Staff may look into the admin; booking changes stay with their organizers.
            demo.user_permissions.set(
                Permission.objects.filter(content_type__app_label="bookings", codename__startswith="view_")
            )
        colleagues = []
        for name in COLLEAGUES:
            user, made = User.objects.get_or_create(username=name, defaults={"email": f"{name}@example.com"})
            if made:
                user.set_unusable_password()
                user.save()
            colleagues.append(user)
        return [demo, *colleagues]

    def _rules(self, rooms: list[Room]) -> None:
        """A few rules to see them at work: Berlin books 180 days ahead; one room needs approval
        (the admin manages it), one a check-in; one is closed for renovation next week."""
        User = get_user_model()
        managers, _ = Group.objects.get_or_create(name="Raumverwaltung Berlin")
        managers.user_set.add(User.objects.get(username=ADMIN[0]))
        berlin = Site.objects.get(name="Berlin")
        Policy.objects.get_or_create(site=berlin, defaults={"max_advance_days": 180})
        first, second, third = [r for r in rooms if r.floor.building.site_id == berlin.pk][:3]
        approval, _ = Policy.objects.get_or_create(
            room=first, defaults={"requires_approval": True, "approval_timeout_hours": 48}
        )
        approval.managers.add(managers)
        # A building's rule the rooms inherit: their rule pages say "erbt (Gebäude: 480)".
        Policy.objects.get_or_create(building=first.floor.building, defaults={"max_duration_minutes": 480})
        Policy.objects.get_or_create(
            room=second,
            defaults={"requires_check_in": True, "check_in_grace_minutes": 15, "buffer_after_minutes": 10},
        )
        if not Blocking.objects.filter(room=third).exists():
            today = timezone.now().astimezone(berlin.tz).date()
            monday = today + timedelta(days=7 - today.weekday())
            Blocking.objects.create(
                room=third,
                span=make_span(
                    datetime.combine(monday, time.min, berlin.tz),
                    datetime.combine(monday + timedelta(days=3), time.min, berlin.tz),
                ),
                reason="Renovierung",
            )

    def _week_of_bookings(self, rng: random.Random, rooms: list[Room], users: list) -> int:
        """Monday to Friday of this week, 08:00–18:00 local, on a 30-minute grid."""
        created = 0
        now = timezone.now()
        for room in rooms:
            tz = room.floor.building.site.tz
            today = now.astimezone(tz).date()
            monday = today - timedelta(days=today.weekday())
            week = make_span(
                datetime.combine(monday, time.min, tz),
                datetime.combine(monday + timedelta(days=7), time.min, tz),
            )
            if Booking.objects.filter(room=room, source=Booking.Source.IMPORT, span__overlap=week).exists():
                continue
            for day in range(5):
                date = monday + timedelta(days=day)
                slot = 16 + rng.randint(0, 3)  # half-hours since midnight: 08:00 to 09:30
                while slot < 36:
                    length = rng.choice([1, 2, 2, 3, 4])
                    if rng.random() < 0.55 and slot + length <= 36:
                        start = datetime.combine(date, time(slot // 2, 30 * (slot % 2)), tz)
                        end = start + timedelta(minutes=30 * length)
                        organizer = rng.choice(users)
                        booking = Booking(
                            room=room,
                            span=make_span(start, end),
                            organizer=organizer,
                            title=rng.choice(TITLES),
                            private=rng.random() < 0.1,
                            source=Booking.Source.IMPORT,
                        )
                        try:
                            with transaction.atomic():
                                booking.save()
                        except IntegrityError:
                            slot += length
                            continue  # someone already booked it through the app
                        BookingEvent.objects.create(
                            booking=booking,
                            kind=BookingEvent.Kind.CREATED,
                            actor=organizer,
                            at=now,
                            changes={"source": "seed_demo"},
                        )
                        created += 1
                    slot += length + rng.randint(0, 2)
        return created
