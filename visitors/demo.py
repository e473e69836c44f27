"""Demo data for visitors: a reception per site, a reception user, visitors for today's and
tomorrow's bookings (some arrived already, so the fire-safety list has names). Idempotent."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings.models import Booking, Site

from .kiosk import create_kiosk, kiosk_url
from .models import Kiosk, Reception, Visit, VisitEvent, Visitor

RECEPTION_USER = ("empfang", "empfang-demo-2026")
GUESTS = [
    ("Dr. Eva Gast", "Kunde GmbH", "de", "braucht Begleitung"),
    ("John Guest", "Client Ltd", "en", ""),
    ("Mehmet Yılmaz", "Lieferant AG", "de", ""),
    ("Sophie Martin", "Partenaire SA", "en", "Rollstuhl: Aufzug zeigen"),
    ("Jan Nowak", "Berater & Co. KG", "de", ""),
]


def seed_visitors() -> str:
    """Receptions, the user ``empfang`` and visitors; returns a line for the demo's summary."""
    first = None
    for site in Site.objects.order_by("pk"):
        group, _ = Group.objects.get_or_create(name=f"Empfang {site.name}")
        reception, _ = Reception.objects.get_or_create(
            site=site,
            defaults={
                "group": group,
                "offers_parking": first is None,
                "directions": "Haupteingang, Empfang im Erdgeschoss rechts.",
            },
        )
        first = first or reception
    if first is None:
        return ""
    User = get_user_model()
    user, made = User.objects.get_or_create(
        username=RECEPTION_USER[0],
        defaults={"first_name": "Erika", "last_name": "Empfang", "email": "empfang@example.com"},
    )
    if made:
        user.set_password(RECEPTION_USER[1])
        user.save()
    if first.group:
        user.groups.add(first.group)
    tablet = _kiosk(first.site)
    if Visit.objects.filter(building__site=first.site).exists():
        return f"Reception: {RECEPTION_USER[0]} / {RECEPTION_USER[1]} ({first.site.name}).{tablet}"
    now = timezone.now()
    tz = first.site.tz
    today = now.astimezone(tz).date()
    bookings = (
        Booking.objects.filter(
            status=Booking.Status.CONFIRMED,
            room__floor__building__site=first.site,
            span__startswith__date__gte=today,
            span__startswith__date__lte=today + timedelta(days=1),
        )
        .select_related("room__floor__building")
        .order_by("span")[:8]
    )
    for n, booking in enumerate(bookings):
        visit = Visit.objects.create(
            host=booking.organizer,
            booking=booking,
            building=booking.room.floor.building,
            start=booking.span.lower,
            end=booking.span.upper,
        )
        VisitEvent.objects.create(
            visit=visit, kind=VisitEvent.Kind.REGISTERED, actor=booking.organizer, at=now
        )
        for name, company, language, notes in GUESTS[n % len(GUESTS) : n % len(GUESTS) + 2]:
            visitor = Visitor.objects.create(
                visit=visit,
                name=name,
                company=company,
                email=f"{name.split()[-1].lower()}@example.com",
                language=language,
                notes=notes,
            )
            VisitEvent.objects.create(
                visit=visit, visitor=visitor, kind=VisitEvent.Kind.ADDED, actor=booking.organizer, at=now
            )
            if visit.start <= now < visit.end:
                visitor.status, visitor.arrived_at = Visitor.Status.ARRIVED, visit.start
                visitor.save(update_fields=["status", "arrived_at"])
                VisitEvent.objects.create(
                    visit=visit, visitor=visitor, kind=VisitEvent.Kind.ARRIVED, actor=user, at=visit.start
                )
    visitors = Visitor.objects.count()
    desk = f"{RECEPTION_USER[0]} / {RECEPTION_USER[1]} ({first.site.name})"
    return f"Reception: {desk}, {visitors} visitors.{tablet}"


def _kiosk(site: Site) -> str:
    """A self check-in tablet for the site; its URL is shown once, when it is made."""
    if Kiosk.objects.filter(site=site).exists():
        return " Self check-in tablet: admin → Selbst-Anmeldungen (rotate for a new URL)."
    _tablet, raw = create_kiosk(site=site, name="Tablet Empfang")
    return f" Self check-in tablet: {kiosk_url(raw)} (codes are in the visitors' invitations)."
