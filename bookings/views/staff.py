"""Server-rendered pages for staff: find and book a room, the day plan, the room page.

Views are thin: forms parse, ``selectors`` read, ``services`` write. Every write is
a plain form post (JavaScript only adds comfort) and carries an idempotency key, so a
double click or a resubmitted form books once.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from .. import hooks, services
from ..combinations import name_parts
from ..errors import BookingConflict, BookingError, InvalidBooking, PolicyViolation
from ..forms import WEEKDAYS, BookingForm, FinderForm, PlanFilterForm, new_key
from ..models import Booking, Room
from ..rules.catalogue import describe, obstacles
from ..rules.groups import blockings_in, may_book, may_book_for_anyone
from ..rules.resolve import limits_of_rooms, rules_for
from ..selectors import places
from ..selectors.availability import free_rooms_to_offer
from ..selectors.delegates import principals_of
from ..selectors.series import series_preview
from ..selectors.suggestions import alternatives
from ..selectors.timeline import (
    RoomFilter,
    building_day,
    plan_buildings,
    plan_equipment,
    room_week,
    site_day,
)
from ..services.idempotency import KeyReused, request_hash, run_once
from ..spans import day_in_range, day_range_message
from ..templatetags.rfr import mediumdate
from .errors import DATABASE_UNAVAILABLE, conflict_context, db_unavailable, refuse_form
from .plan_rows import rendered_rows

SESSION_PLACE = "rfr_place"
SESSION_BUILDING = "rfr_building"
# A default slot starting this late in the evening moves to the next morning.
LATEST_DEFAULT_HOUR = 21


def next_half_hour(now: datetime, tz) -> datetime:
    """The next half hour for a one-hour default; late in the evening, tomorrow at nine."""
    local = now.astimezone(tz).replace(second=0, microsecond=0)
    start = local + timedelta(minutes=30 - local.minute % 30)
    if start.hour >= LATEST_DEFAULT_HOUR or (start + timedelta(hours=1)).date() != start.date():
        start = datetime.combine(local.date() + timedelta(days=1), time(9), tzinfo=tz)
    return start


@dataclass
class Offer:
    """A room at a time, bookable with one click; the key makes that click count once."""

    room: Room
    start: datetime
    end: datetime
    kind: str = ""
    # Said before booking: a manager decides (the button reads "Request"), or one checks in.
    needs_approval: bool = False
    needs_check_in: bool = False

    def __post_init__(self):
        self.tz = self.room.floor.building.site.tz
        self.key = new_key()
        local_start, local_end = self.start.astimezone(self.tz), self.end.astimezone(self.tz)
        self.date_value = local_start.date().isoformat()
        self.start_value = f"{local_start:%H:%M}"
        self.end_value = f"{local_end:%H:%M}"


def offers(slots) -> list[Offer]:
    return named([Offer(s.room, s.start, s.end, s.kind) for s in slots])


def named(found: list[Offer]) -> list[Offer]:
    """The offers, each combined room with its parts' names (one query)."""
    name_parts(o.room for o in found)
    return found


# The rules a person should know before booking: a manager decides, or one checks in.
SAID_BEFORE = ("requires_approval", "requires_check_in")


def with_flags(*groups: list[Offer]) -> None:
    """Mark the offers whose rooms need approval or a check-in (one query for all)."""
    every = [offer for group in groups for offer in group]
    limits = limits_of_rooms([o.room for o in every], SAID_BEFORE)
    for offer in every:
        found = limits.get(offer.room.pk, {})
        offer.needs_approval = bool(found.get("requires_approval"))
        offer.needs_check_in = bool(found.get("requires_check_in"))


# --- find a room ------------------------------------------------------------------------


@login_required
@require_GET
def home(request):
    """The room finder: free rooms for a time, smallest fitting first, booked in one click."""
    now = timezone.now()
    buildings = places.buildings()
    data = request.GET.copy()
    if not data:
        data = finder_defaults(request, buildings, now)
    form = FinderForm(
        data, buildings=buildings, equipment=places.equipment(), language=get_language(), now=now
    )
    context = {"form": form, "nav": "find", "has_rooms": bool(buildings)}
    if buildings and form.is_valid():
        cd = form.cleaned_data
        site, building = cd["site"], cd["building"]
        filters = {"people": cd["people"], "codes": cd["equipment"]}
        found, more = free_rooms_to_offer(
            start=cd["start_at"],
            end=cd["end_at"],
            site_id=site.pk,
            building_id=building.pk if building else None,
            viewer=request.user,
            **filters,
        )
        context.update(
            searched=True,
            site=site,
            building=building,
            tz=site.tz,
            start=cd["start_at"],
            end=cd["end_at"],
            results=named([Offer(r, cd["start_at"], cd["end_at"]) for r in found]),
            more=more,
            title=cd["title"] or _("Meeting"),
            people=cd["people"] or "",
        )
        if not found:
            alt = alternatives(
                site_id=site.pk,
                start=cd["start_at"],
                end=cd["end_at"],
                now=now,
                building_id=building.pk if building else None,
                viewer=request.user,
                **filters,
            )
            context["alternatives"] = {
                "shifted": offers(alt.shifted),
                "shorter": offers(alt.shorter),
                "elsewhere": offers(alt.elsewhere),
            }
        if not found:
            # Say why where a blocking is (part of) the reason, with its own words.
            context["blocked"] = blockings_in(
                request.user,
                site_id=site.pk,
                building_id=building.pk if building else None,
                start=cd["start_at"],
                end=cd["end_at"],
            )
        with_flags(context["results"], *context.get("alternatives", {}).values())
        place = data.get("place", "")
        if place and request.session.get(SESSION_PLACE) != place:
            request.session[SESSION_PLACE] = place
    return render(request, "bookings/home.html", context)


def finder_defaults(request, buildings, now: datetime) -> dict:
    """The next half hour for an hour, at the place searched last."""
    remembered = request.session.get(SESSION_PLACE, "")
    place, tz = "", buildings[0].site.tz if buildings else timezone.get_current_timezone()
    for b in buildings:
        if remembered in (f"site-{b.site_id}", f"building-{b.pk}"):  # not if deleted meanwhile
            place, tz = remembered, b.site.tz
            break
    start = next_half_hour(now, tz)
    end = start + timedelta(hours=1)
    return {
        "place": place,
        "date": start.date().isoformat(),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
    }


# --- book -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def book(request):
    """The booking dialog; its post (and a finder's one-click post) books through the services."""
    now = timezone.now()
    rooms = places.bookable_rooms()
    # Room managers and facility admins name anyone; a delegate chooses among their principals.
    anyone = may_book_for_anyone(request.user)
    principals = [] if anyone else principals_of(request.user)
    if request.method == "GET":
        form = BookingForm(
            initial=dialog_initial(request.GET, rooms, now),
            rooms=rooms,
            now=now,
            principals=principals,
            anyone=anyone,
        )
        return dialog(request, form, parts=bind_parts(request, form, now))
    form = BookingForm(request.POST, rooms=rooms, now=now, principals=principals, anyone=anyone)
    if request.POST.get("action") in ("check", "prices"):
        # Asking whether a slot can be booked, or what services cost, needs no title; booking does.
        form.fields["title"].required = False
    valid = form.is_valid()
    parts = bind_parts(request, form, now, request.POST)
    if not valid or not all(part.is_valid() for part in parts):
        return dialog(request, form, status=422, parts=parts)
    cd = form.cleaned_data
    if request.POST.get("action") == "prices":
        # The services' line prices and total, before anything is saved.
        return dialog(request, form, parts=parts, priced=True)
    if request.POST.get("action") == "preview":
        try:
            preview = series_preview(
                room=cd["room"],
                start=cd["start_at"],
                end=cd["end_at"],
                rrule=cd["rrule"],
                viewer=request.user,
            )
        except InvalidBooking as exc:  # the rule ("rrule") is no field of its own: above the form
            return dialog(request, form, status=refuse_form(form, exc), parts=parts)
        return dialog(
            request, form, preview=preview, taken=sum(1 for o in preview if o.conflicts), parts=parts
        )
    if request.POST.get("action") == "check":
        # "Why can't I book this?": the checks a booking makes, without booking.
        rules = rules_for(cd["room"])
        principal = cd.get("on_behalf")
        reasons = obstacles(
            user=request.user,
            rules=rules,
            start=cd["start_at"],
            end=cd["end_at"],
            now=now,
            organizer_id=principal.pk if principal else None,
        )
        return dialog(request, form, checked=True, reasons=reasons, rules=rules, parts=parts)
    try:
        outcome = book_once(request, cd, parts=parts, now=now)
    except KeyReused:
        messages.warning(
            request, _("This form was already sent with other values; please check and send again.")
        )
        return dialog(request, fresh_copy(form, rooms, now), status=409, parts=parts)
    except BookingConflict as exc:
        return conflict(request, form, exc, now)
    except PolicyViolation as exc:
        if not exc.reasons:  # refused by a part (a service's cut-off), not by the room's rules
            return dialog(request, form, status=refuse_form(form, exc), parts=parts)
        # Every rule in the way, as the "why can't I book this?" check lists them.
        return dialog(request, form, status=403, checked=True, reasons=exc.reasons, parts=parts)
    except BookingError as exc:
        return dialog(request, form, status=refuse_form(form, exc), parts=parts)
    except DATABASE_UNAVAILABLE as exc:
        return db_unavailable(request, exc, "bookings/book.html", dialog_context(request, form))
    return after_booking(request, outcome.body, replayed=outcome.replayed)


def bind_parts(request, form: BookingForm, now: datetime, data=None) -> list:
    """The apps' sections of the dialog (services: bookings/hooks.py), bound to what was posted."""
    cd = getattr(form, "cleaned_data", None) or {}
    room = cd.get("room") if form.is_bound else form.rooms.get(form.initial.get("room"))
    start = cd.get("start_at")
    if not form.is_bound and room is not None:
        try:  # the prefilled day and start (a link's may be text)
            day = date.fromisoformat(str(form.initial["date"]))
            at = time.fromisoformat(str(form.initial["start"]))
            start = datetime.combine(day, at, tzinfo=room.floor.building.site.tz)
        except (KeyError, ValueError):
            start = None
    bound = (
        part.bind(
            data,
            user=request.user,
            room=room,
            start=start,
            attendees=len(cd.get("attendees") or []),
            now=now,
        )
        for part in hooks.dialog_parts()
    )
    return [b for b in bound if b is not None]


def dialog_initial(query, rooms, now: datetime) -> dict:
    """Prefill from a link (the day plan, a room page): room, date, start, end."""
    by_pk = {str(r.pk): r for r in rooms}
    room = by_pk.get(query.get("room", ""))
    tz = room.floor.building.site.tz if room else timezone.get_current_timezone()
    start = next_half_hour(now, tz)
    initial = {
        "key": new_key(),
        "room": room.pk if room else "",
        "date": start.date(),
        "start": start.time(),
        "end": (start + timedelta(hours=1)).time(),
        "freq": "none",
        "ends": "count",
        "count": 10,
        "interval": 1,
        "monthly": "date",
    }
    for name in ("date", "start", "end", "title"):
        if query.get(name):
            initial[name] = query[name][:200]
    # A weekly repetition starts out on the booking's own weekday.
    try:
        day = date.fromisoformat(str(initial["date"]))
    except ValueError:
        day = start.date()
    initial["weekdays"] = [WEEKDAYS[day.weekday()][0]]
    return initial


def fresh_copy(form: BookingForm, rooms, now: datetime) -> BookingForm:
    """The same input under a new idempotency key (the old one answered another request)."""
    data = form.data.copy()
    data["key"] = new_key()
    fresh = BookingForm(
        data, rooms=rooms, now=now, principals=list(form.principals.values()), anyone=form.anyone
    )
    fresh.is_valid()
    return fresh


def dialog_context(request, form: BookingForm, **extra) -> dict:
    """The dialog's page; the chosen room (if any) names the zone its times are in."""
    if form.is_bound:
        room = getattr(form, "cleaned_data", {}).get("room")
    else:
        room = form.rooms.get(form.initial.get("room"))
    tz = room.floor.building.site.tz if room else None
    return {"form": form, "nav": "book", "room": room, "tz": tz, **extra}


def dialog(request, form: BookingForm, status: int = 200, **extra):
    return render(request, "bookings/book.html", dialog_context(request, form, **extra), status=status)


def fingerprint(cd: dict, parts: list) -> str:
    payload = {
        "room": cd["room"].pk,
        "title": cd["title"],
        "start": cd["start_at"].isoformat(),
        "end": cd["end_at"].isoformat(),
        "attendees": cd["attendees"],
        "private": cd["private"],
        "rrule": cd.get("rrule"),
        "skip": cd.get("skip_conflicts", False),
        "for": cd["on_behalf"].pk if cd.get("on_behalf") else None,
        "invite": cd.get("invite_attendees", False),
    }
    if cd.get("elsewhere"):  # taken dates in another room (a series' conflict page)
        payload["elsewhere"] = sorted((start.isoformat(), room.pk) for start, room in cd["elsewhere"].items())
    if any(part.fingerprint() for part in parts):  # without lines the hash stays as it always was
        payload["parts"] = [part.fingerprint() for part in parts]
    return request_hash("POST", reverse("bookings:book"), payload)


def book_once(request, cd: dict, *, parts: list, now: datetime):
    """Book or create the series once per rendered form (its key), the parts' lines in its transaction."""
    user = request.user

    def action():
        common = {
            "room": cd["room"],
            # A delegate books in the chosen principal's name; the services check they may.
            "organizer": cd.get("on_behalf") or user,
            "actor": user,
            "title": cd["title"],
            "start": cd["start_at"],
            "end": cd["end_at"],
            "private": cd["private"],
            "attendees": cd["attendees"],
            "invite_attendees": cd["invite_attendees"],
            "source": Booking.Source.WEB,
        }
        with ExitStack() as creating:
            # What a part names for the new bookings (a cost centre) is there when they are made.
            for part in parts:
                creating.enter_context(part.creating())
            if cd.get("rrule"):
                result = services.create_series(
                    rrule=cd["rrule"],
                    skip_conflicts=cd["skip_conflicts"],
                    elsewhere=cd.get("elsewhere") or None,
                    **common,
                )
            else:
                result = None
                booking = services.create_booking(**common)
        created = result.created if result else [booking]
        # What a part could not do for some dates (a service past its cut-off), for the booker.
        notes = [note for part in parts for note in part.apply(bookings=created, actor=user, now=now)]
        body: dict = {"booking": created[0].pk}
        if result:
            body.update(
                series=result.series.pk,
                created=len(result.created),
                skipped=len(result.skipped),
                elsewhere=sum(1 for b in result.created if b.room_id != cd["room"].pk),
            )
        if notes:
            body["notes"] = notes
        return 201, body

    return run_once(user=user, key=cd["key"], fingerprint=fingerprint(cd, parts), action=action)


def after_booking(request, body: dict, *, replayed: bool):
    places_and_people = ("room__floor__building__site", "organizer")
    booking = Booking.objects.select_related(*places_and_people).filter(pk=body["booking"]).first()
    if booking is None:  # cancelled and gone is impossible (rows stay); be safe anyway
        return redirect("bookings:mine")
    tz = booking.room.floor.building.site.tz
    start, end = booking.start.astimezone(tz), booking.end.astimezone(tz)
    values = {
        "title": booking.title,
        "room": booking.room.name,
        "day": mediumdate(start),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
    }
    if "series" in body:
        text = ngettext(
            "Series “%(title)s” booked in %(room)s: %(n)d date from %(day)s, %(start)s–%(end)s.",
            "Series “%(title)s” booked in %(room)s: %(n)d dates from %(day)s, %(start)s–%(end)s.",
            body["created"],
        ) % {**values, "n": body["created"]}
        if body.get("elsewhere"):  # replayed answers from before this have none
            text += " " + ngettext(
                "%(n)d date is in another room.", "%(n)d dates are in another room.", body["elsewhere"]
            ) % {"n": body["elsewhere"]}
        if body["skipped"]:
            text += " " + ngettext(
                "%(n)d taken date was left out.", "%(n)d taken dates were left out.", body["skipped"]
            ) % {"n": body["skipped"]}
    elif booking.status == Booking.Status.PENDING:
        text = (
            _(
                "“%(title)s” requested: %(room)s, %(day)s, %(start)s–%(end)s. The room needs approval; "
                "the slot is held for you until a room manager decides, and you will get a mail."
            )
            % values
        )
    else:
        text = _("“%(title)s” booked: %(room)s, %(day)s, %(start)s–%(end)s.") % values
    if booking.booked_by_id and booking.organizer_id != request.user.pk:
        organizer = booking.organizer
        text += " " + _("Booked for %(name)s, who is the organizer.") % {
            "name": organizer.get_full_name() or organizer.get_username()
        }
    if replayed:
        text += " " + _("(This form had already been sent; nothing was booked twice.)")
    messages.success(request, text)
    for note in body.get("notes", []):
        messages.warning(request, note)
    return redirect(reverse("bookings:mine") + f"#booking-{booking.pk}")


def conflict(request, form: BookingForm, exc: BookingConflict, now: datetime):
    """Say what is in the way, in words, and offer other times and rooms (one click each)."""
    cd = form.cleaned_data
    room = cd["room"]
    context = {"conflict": exc.message, **conflict_context(exc, request.user)}
    if not cd.get("rrule"):
        people = cd.get("people") or (len(cd["attendees"]) + 1 if cd["attendees"] else None)
        alt = alternatives(
            site_id=room.floor.building.site_id,
            start=cd["start_at"],
            end=cd["end_at"],
            now=now,
            room=room,
            people=people,
            viewer=request.user,
        )
        context["alternatives"] = {
            "shifted": offers(alt.shifted),
            "shorter": offers(alt.shorter),
            "elsewhere": offers(alt.elsewhere),
        }
        with_flags(*context["alternatives"].values())
    else:
        # Each taken date: other free rooms then, as big and as equipped, that the rules allow.
        codes = list(room.equipment.values_list("code", flat=True))
        for taken in context.get("occurrences", [])[:MAX_DATES_ELSEWHERE]:
            taken["elsewhere"] = other_rooms_then(
                room, codes, taken["start"], taken["end"], now, request.user
            )
        context["any_elsewhere"] = any(taken.get("elsewhere") for taken in context.get("occurrences", []))
    # A new key: the refused request left the old one unused, but the offers are new forms.
    data = form.data.copy()
    data["key"] = new_key()
    retry = BookingForm(
        data,
        rooms=list(form.rooms.values()),
        now=now,
        principals=list(form.principals.values()),
        anyone=form.anyone,
    )
    retry.is_valid()
    return dialog(request, retry, status=409, **context)


# A series' conflict page offers other rooms for this many taken dates (each a look-up).
MAX_DATES_ELSEWHERE = 30


def other_rooms_then(
    room: Room, codes: list[str], start: datetime, end: datetime, now: datetime, viewer
) -> list[Room]:
    """Rooms of the site free for exactly this time, with at least the seats and the
    equipment of ``room``, that ``viewer`` may book then; the same building first."""
    alt = alternatives(
        site_id=room.floor.building.site_id,
        start=start,
        end=end,
        now=now,
        room=room,
        people=room.capacity,
        codes=codes,
        viewer=viewer,
    )
    return [slot.room for slot in alt.elsewhere if slot.start == start and slot.end == end]


# --- day plan and room page ---------------------------------------------------------------


def parse_day(value: str | None, default: date) -> date | None:
    """The day a link names (an unreadable one gives the default), or None when it lies off the calendar."""
    try:
        day = date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if day_in_range(day) else None


def day_off_the_calendar(request):
    """The translated 400 page for a day before 1900 or after 9998: its week and neighbours do not exist."""
    return render(request, "400.html", {"message": day_range_message()}, status=400)


@login_required
@require_GET
def timeline(request):
    """One local day of a building's rooms, or of a whole site's; free stretches link to booking."""
    now = timezone.now()
    version, buildings = plan_buildings()
    context = {"nav": "plan", "buildings": buildings}
    if not buildings:
        return render(request, "bookings/timeline.html", context)
    site, building = chosen_place(request, buildings)
    tz = site.tz
    today = now.astimezone(tz).date()
    day = parse_day(request.GET.get("date"), today)
    if day is None:
        return day_off_the_calendar(request)
    # Fewer rooms by seats and equipment; invalid input filters nothing and says why.
    filter_form = PlanFilterForm(request.GET, equipment=plan_equipment(version), language=get_language())
    only = RoomFilter()
    if filter_form.is_valid():
        only = RoomFilter(filter_form.cleaned_data["people"], tuple(filter_form.cleaned_data["equipment"]))
    if building is not None:
        plan = building_day(
            building=building, day=day, viewer=request.user, now=now, version=version, only=only
        )
    else:
        plan = site_day(site=site, day=day, viewer=request.user, now=now, version=version, only=only)
    # Said before booking, as in the finder: which rooms a manager decides, which need a check-in.
    flags = limits_of_rooms(
        [track.room for _floor, tracks in plan.floors for track in tracks],
        SAID_BEFORE,
    )
    approval_rooms = {pk for pk, f in flags.items() if f["requires_approval"]}
    check_in_rooms = {pk for pk, f in flags.items() if f["requires_check_in"]}
    context.update(
        site=site,
        building=building,
        place=f"building-{building.pk}" if building else f"site-{site.pk}",
        place_name=building.name if building else _("All buildings in %(site)s") % {"site": site.name},
        tz=tz,
        day=day,
        today=today,
        plan=plan,
        # Each row rendered once for what it shows, then taken from memory (plan_rows).
        plan_rows=rendered_rows(
            plan,
            day=day,
            viewer=request.user,
            now=now,
            tz=tz,
            approval_rooms=approval_rooms,
            check_in_rooms=check_in_rooms,
        ),
        previous=day - timedelta(days=1),
        next=day + timedelta(days=1),
        filter_form=filter_form,
        filtered=bool(only),
        # Kept in the links to other days: "&people=8&equipment=projector" or "".
        filter_query=f"&{filter_form.query}" if only else "",
    )
    return render(request, "bookings/timeline.html", context)


def chosen_place(request, buildings: list) -> tuple:
    """(site, building or None) from ?place=building-ID|site-ID (or ?building=ID), else the last one.

    An unknown place is a 404; the choice is remembered in the session for the next visit.
    """
    by_building = {b.pk: b for b in buildings}
    sites = {b.site_id: b.site for b in buildings}
    asked = request.GET.get("place") or (
        f"building-{request.GET['building']}" if request.GET.get("building") else ""
    )
    value = asked or request.session.get(SESSION_BUILDING) or ""
    kind, _sep, pk = str(value).rpartition("-")
    kind = kind or "building"  # an older session holds a bare building id
    place = None
    if pk.isdigit() and kind == "building" and int(pk) in by_building:
        place = (by_building[int(pk)].site, by_building[int(pk)])
    elif pk.isdigit() and kind == "site" and int(pk) in sites:
        place = (sites[int(pk)], None)
    if place is None:
        if asked:
            raise Http404(_("There is no such building."))
        place = (buildings[0].site, buildings[0])
    remembered = f"building-{place[1].pk}" if place[1] else f"site-{place[0].pk}"
    if request.session.get(SESSION_BUILDING) != remembered:
        request.session[SESSION_BUILDING] = remembered
    return place


@login_required
@require_GET
def room(request, pk: int):
    """A room: photo, capacity, equipment, where it is, and its week."""
    now = timezone.now()
    room = places.room_with_place(pk)
    if room is None:
        raise Http404(_("There is no such room."))
    tz = room.floor.building.site.tz
    day = parse_day(request.GET.get("week"), now.astimezone(tz).date())
    if day is None:
        return day_off_the_calendar(request)
    monday = day - timedelta(days=day.weekday())
    rules = rules_for(room)
    can_book = may_book(request.user, rules)
    week = room_week(room=room, monday=monday, viewer=request.user, now=now, can_book=can_book)
    language = get_language()
    return render(
        request,
        "bookings/room.html",
        {
            "nav": "plan",
            "room": room,
            "tz": tz,
            "week": week,
            "axis": week[0].axis,
            "monday": monday,
            "sunday": monday + timedelta(days=6),
            "previous": monday - timedelta(days=7),
            "next": monday + timedelta(days=7),
            "equipment": [e.localized_name(language) for e in room.equipment.all()],
            "book_url": reverse("bookings:book") + "?" + urlencode({"room": room.pk}),
            "can_book": can_book,
            "rules": describe(rules),
        },
    )
