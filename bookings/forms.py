"""Forms of the staff pages: they parse and check what was typed; the services write.

Times are typed as wall-clock times of the room's site and become aware datetimes
here, so a view never handles a naive time.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import Building, Room
from .recurrence import MAX_OCCURRENCES
from .spans import START_GRACE, day_in_range, day_range_message, on_the_clock

WEEKDAYS = [
    ("MO", _("Monday")),
    ("TU", _("Tuesday")),
    ("WE", _("Wednesday")),
    ("TH", _("Thursday")),
    ("FR", _("Friday")),
    ("SA", _("Saturday")),
    ("SU", _("Sunday")),
]
FREQUENCIES = [
    ("none", _("Does not repeat")),
    ("daily", _("Daily")),
    ("weekly", _("Weekly")),
    ("monthly", _("Monthly")),
]
MAX_PEOPLE = 1000


def new_key() -> str:
    """An idempotency key for one rendered form: its double submission books once."""
    return uuid.uuid4().hex


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


def combine(day: date, start: time, end: time, tz) -> tuple[datetime, datetime]:
    """Aware start and end on a local day; an end of 00:00 means midnight after the day."""
    end_day = day + timedelta(days=1) if end == time(0) and start != time(0) else day
    return on_the_clock(datetime.combine(day, start), tz), on_the_clock(datetime.combine(end_day, end), tz)


def split_attendees(text: str) -> list[str]:
    return [a.strip() for a in re.split(r"[\n,;]+", text or "") if a.strip()]


class RangeMixin:
    """Checks the typed day and times; ``clean_range`` sets ``start`` and ``end``."""

    def clean_range(self, tz, now: datetime, *, clamp_start: bool = False) -> None:
        cd = self.cleaned_data
        if cd.get("date") is None or cd.get("start") is None or cd.get("end") is None:
            return
        if not day_in_range(cd["date"]):
            self.add_error("date", day_range_message())
            return
        start, end = combine(cd["date"], cd["start"], cd["end"], tz)
        if end <= start:
            self.add_error("end", gettext("The end must be after the start."))
            return
        if end <= now:
            self.add_error("date", gettext("This time has already passed."))
            return
        if start < now - START_GRACE:
            if not clamp_start:
                self.add_error("start", gettext("The start lies in the past."))
                return
            start = now.replace(second=0, microsecond=0)
        cd["start_at"], cd["end_at"] = start, end


class FinderForm(RangeMixin, forms.Form):
    """Where, when, how many and with what: a GET form, so results can be bookmarked."""

    place = forms.ChoiceField(label=_("Site or building"), required=False)
    date = forms.DateField(label=_("Date"), required=False, widget=date_input())
    start = forms.TimeField(label=_("From"), required=False, widget=time_input())
    end = forms.TimeField(label=_("To"), required=False, widget=time_input())
    now = forms.TypedChoiceField(
        choices=[("30", "30"), ("60", "60")], coerce=int, required=False, empty_value=None
    )
    people = forms.IntegerField(
        label=_("People"), min_value=1, max_value=MAX_PEOPLE, required=False, widget=forms.NumberInput()
    )
    equipment = forms.MultipleChoiceField(
        label=_("Equipment"), required=False, widget=forms.CheckboxSelectMultiple
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        required=False,
        help_text=_("For booking with one click; without one the booking is called “Meeting”."),
    )

    def __init__(self, data, *, buildings: list[Building], equipment: list, language: str, now: datetime):
        super().__init__(data)
        self.now = now
        self.buildings = {b.pk: b for b in buildings}
        self.sites = {b.site_id: b.site for b in buildings}
        choices = []
        for site in self.sites.values():
            group = [(f"site-{site.pk}", gettext("All buildings in %(site)s") % {"site": site.name})]
            group += [(f"building-{b.pk}", b.name) for b in buildings if b.site_id == site.pk]
            choices.append((site.name, group))
        self.fields["place"].choices = choices
        self.fields["equipment"].choices = [(e.code, e.localized_name(language)) for e in equipment]
        for name in ("place", "date", "start", "end"):
            # Optional only because a default applies or "now for 30 minutes" ignores them.
            self.fields[name].hide_optional = True

    def clean_place(self):
        value = self.cleaned_data.get("place") or ""
        kind, _sep, pk = value.partition("-")
        if kind == "building" and pk.isdigit() and int(pk) in self.buildings:
            building = self.buildings[int(pk)]
            return building.site, building
        if kind == "site" and pk.isdigit() and int(pk) in self.sites:
            return self.sites[int(pk)], None
        if not self.sites:
            raise forms.ValidationError(gettext("There are no rooms yet."))
        return next(iter(self.sites.values())), None

    def clean(self):
        cd = super().clean()
        if "place" not in cd:
            return cd
        site, building = cd["place"]
        cd["site"], cd["building"] = site, building
        if cd.get("now"):
            start = self.now.astimezone(site.tz).replace(second=0, microsecond=0)
            cd["start_at"], cd["end_at"] = start, start + timedelta(minutes=cd["now"])
            return cd
        for name in ("date", "start", "end"):
            if cd.get(name) is None and name not in self.errors:
                self.add_error(name, gettext("Please fill in the day and the times."))
        self.clean_range(site.tz, self.now, clamp_start=True)
        return cd


class BookingFields(RangeMixin, forms.Form):
    """Room, title, times, attendees, private: shared by booking and changing."""

    title = forms.CharField(label=_("Title"), max_length=200)
    room = forms.TypedChoiceField(label=_("Room"), coerce=int, empty_value=None)
    date = forms.DateField(label=_("Date"), widget=date_input())
    start = forms.TimeField(label=_("Start"), widget=time_input())
    end = forms.TimeField(label=_("End"), widget=time_input())
    attendees = forms.CharField(
        label=_("Attendees"),
        required=False,
        max_length=20_000,
        help_text=_("One per line or separated by commas: names or e-mail addresses."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    invite_attendees = forms.BooleanField(
        label=_("Send invitations to the attendees"),
        required=False,
        help_text=_(
            "People from the directory and mail addresses get a calendar invitation, and later its "
            "updates and cancellation."
        ),
    )
    private = forms.BooleanField(
        label=_("Private"), required=False, help_text=_("Others see only “Busy”, not the title.")
    )

    def __init__(self, *args, rooms: list[Room], now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        self.rooms = {r.pk: r for r in rooms}
        groups: dict[str, list] = {}
        for r in rooms:
            building = r.floor.building
            label = f"{building.name} ({building.site.name})"
            text = gettext("%(room)s, %(floor)s, %(n)d seats") % {
                "room": r.name,
                "floor": r.floor.name,
                "n": r.capacity,
            }
            groups.setdefault(label, []).append((r.pk, text))
        self.fields["room"].choices = [("", "—"), *groups.items()]

    def clean_room(self):
        room = self.rooms.get(self.cleaned_data.get("room"))
        if room is None:
            raise forms.ValidationError(gettext("Please choose a room."))
        return room

    def clean_attendees(self):
        return split_attendees(self.cleaned_data.get("attendees", ""))


class BookingForm(BookingFields):
    """The booking dialog, and the one-click booking of a finder result."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=255)
    people = forms.IntegerField(required=False, min_value=1, max_value=MAX_PEOPLE, widget=forms.HiddenInput)
    freq = forms.ChoiceField(
        label=_("Frequency"), choices=FREQUENCIES, initial="none", required=False, widget=forms.RadioSelect
    )
    interval = forms.IntegerField(
        label=_("Every"),
        min_value=1,
        max_value=99,
        initial=1,
        required=False,
        # The unit beside the field (days, weeks or months) is part of its description.
        widget=forms.NumberInput(attrs={"aria-describedby": "interval-unit"}),
    )
    weekdays = forms.MultipleChoiceField(
        label=_("On"), choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple
    )
    monthly = forms.ChoiceField(
        label=_("Monthly on"),
        choices=[("date", _("the same day of the month")), ("weekday", _("the same weekday"))],
        initial="date",
        required=False,
        widget=forms.RadioSelect,
    )
    ends = forms.ChoiceField(
        label=_("Ends"),
        choices=[("count", _("after a number of times")), ("until", _("on a date"))],
        initial="count",
        required=False,
        widget=forms.RadioSelect,
    )
    count = forms.IntegerField(
        label=_("Number of times"), min_value=1, max_value=MAX_OCCURRENCES, initial=10, required=False
    )
    until = forms.DateField(label=_("Last date"), required=False, widget=date_input())
    skip_conflicts = forms.BooleanField(
        label=_("Book the free dates and leave out the taken ones"), required=False
    )

    def __init__(self, *args, principals: list | tuple = (), anyone: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("interval", "count", "until"):
            # Needed or not depending on the repetition chosen; build_rrule asks for them.
            self.fields[name].hide_optional = True
        # A delegate chooses among the people who named them (selectors.delegates); room
        # managers and facility admins (``anyone``) name anybody, with the people picker.
        self.principals = {p.pk: p for p in principals}
        self.anyone = anyone
        if anyone:
            self.fields["on_behalf"] = forms.CharField(
                label=_("Book for"),
                max_length=254,
                required=False,
                help_text=_(
                    "Empty: for yourself. Otherwise the user name or mail address of the person you book "
                    "for: they organize it, and you are recorded as the one who booked it."
                ),
            )
            self.fields["on_behalf"].hide_optional = True
        elif self.principals:
            self.fields["on_behalf"] = forms.TypedChoiceField(
                label=_("Book for"),
                choices=[
                    ("", gettext("myself")),
                    *((p.pk, p.get_full_name() or p.get_username()) for p in principals),
                ],
                coerce=int,
                empty_value=None,
                required=False,
                help_text=_("As a delegate you book in the name of the person you choose: they organize it."),
            )
            self.fields["on_behalf"].hide_optional = True

    def clean_on_behalf(self):
        value = self.cleaned_data.get("on_behalf")
        if value in (None, ""):
            return None
        if self.anyone:
            return self.person_named(value)
        principal = self.principals.get(value)
        if principal is None:
            raise forms.ValidationError(gettext("You may not book for this person."))
        return principal

    def person_named(self, text: str):
        """The person a manager typed or picked: by user name or mail address; a person who
        left is named as such (the services refuse booking in their name)."""
        people = get_user_model().objects.all()
        text = text.strip()
        found = list(people.filter(username__iexact=text)[:2])
        if not found and "@" in text:
            found = list(people.filter(email__iexact=text)[:2])
        if len(found) != 1:
            raise forms.ValidationError(gettext("There is no single person with this name or address."))
        person = found[0]
        if not person.is_active:
            raise forms.ValidationError(
                gettext("%(name)s is no longer active; nobody can book in their name.")
                % {"name": person.get_full_name() or person.get_username()}
            )
        return person

    def clean(self):
        cd = super().clean()
        room = cd.get("room")
        if room is not None:
            self.clean_range(room.floor.building.site.tz, self.now)
        cd["rrule"] = self.build_rrule() if "start_at" in cd else None
        cd["elsewhere"] = self.clean_elsewhere() if cd["rrule"] else {}
        return cd

    def clean_elsewhere(self) -> dict:
        """A series' taken dates the user takes in another room: ``instead`` is posted once per
        taken date as "<start in ISO>|<room id>", or empty to leave the date out."""
        chosen = {}
        values = self.data.getlist("instead") if hasattr(self.data, "getlist") else []
        for value in values:
            if not value:
                continue
            when, _sep, pk = value.partition("|")
            try:
                start = datetime.fromisoformat(when)
            except ValueError:
                start = None
            room = self.rooms.get(int(pk)) if pk.isdigit() else None
            if start is None or start.tzinfo is None or room is None:
                self.add_error(None, gettext("The other room chosen for a date is not one you can book."))
                return {}
            chosen[start] = room
        return chosen

    def build_rrule(self) -> str | None:
        """The RFC 5545 rule for the chosen repetition, or None for a single booking."""
        cd = self.cleaned_data
        freq = cd.get("freq") or "none"
        if freq == "none":
            return None
        local_start = cd["start_at"]
        parts = [f"FREQ={freq.upper()}"]
        if (cd.get("interval") or 1) > 1:
            parts.append(f"INTERVAL={cd['interval']}")
        if freq == "weekly":
            days = cd.get("weekdays") or [WEEKDAYS[local_start.weekday()][0]]
            parts.append("BYDAY=" + ",".join(days))
        elif freq == "monthly":
            if cd.get("monthly") == "weekday":
                nth = (local_start.day - 1) // 7 + 1
                # The fifth weekday of a month is rare; "the last" is what people mean.
                parts.append(f"BYDAY={-1 if nth == 5 else nth}{WEEKDAYS[local_start.weekday()][0]}")
            else:
                parts.append(f"BYMONTHDAY={local_start.day}")
        if cd.get("ends") == "until":
            until = cd.get("until")
            if until is None:
                self.add_error("until", gettext("Please enter the last date of the series."))
                return None
            if until < local_start.date():
                self.add_error("until", gettext("The last date must not be before the first."))
                return None
            parts.append(f"UNTIL={until:%Y%m%d}")
        else:
            count = cd.get("count")
            if count is None:
                self.add_error("count", gettext("Please enter how many times the booking repeats."))
                return None
            parts.append(f"COUNT={count}")
        return ";".join(parts)


class WaitingForm(forms.Form):
    """Queue for the slot a booking dialog found taken: the room, the local day and times, the title."""

    room = forms.TypedChoiceField(coerce=int, empty_value=None)
    title = forms.CharField(max_length=200)
    date = forms.DateField()
    start = forms.TimeField()
    end = forms.TimeField()
    any_room = forms.BooleanField(
        label=_("or any room like this in the building (at least as many seats and the same equipment)"),
        required=False,
    )

    def __init__(self, *args, rooms: list[Room], now: datetime, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now
        self.rooms = {r.pk: r for r in rooms}
        self.fields["room"].choices = [(r.pk, r.name) for r in rooms]

    def clean(self):
        cd = super().clean()
        room = self.rooms.get(cd.get("room"))
        if room is None or cd.get("date") is None or cd.get("start") is None or cd.get("end") is None:
            return cd
        cd["room"] = room
        start, end = combine(cd["date"], cd["start"], cd["end"], room.floor.building.site.tz)
        if end <= start:
            self.add_error("end", gettext("The end must be after the start."))
        cd["start_at"], cd["end_at"] = start, end
        return cd


class ChangeBookingForm(BookingFields):
    """Move, resize, rename a booking; ``version`` refuses changing a stale copy.

    For a date of a series, ``scope`` says which dates the change applies to.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    scope = forms.ChoiceField(
        label=_("Apply the change to"),
        choices=[
            ("this", _("Only this date")),
            ("following", _("This and all following dates")),
            ("all", _("All dates of the series")),
        ],
        initial="this",
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Dates changed on their own keep their time and room when you change several dates."),
    )

    def __init__(self, *args, day: date | None = None, in_series: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # The date the booking is on now: several dates of a series keep their own days.
        self.day = day
        if not in_series:
            del self.fields["scope"]

    def clean(self):
        cd = super().clean()
        cd["scope"] = cd.get("scope") or "this"
        if cd["scope"] != "this" and cd.get("date") and self.day and cd["date"] != self.day:
            self.add_error(
                "date",
                gettext("Only a single date can move to another day; choose “Only this date”."),
            )
            return cd
        room = cd.get("room")
        if room is None or cd.get("start") is None or cd.get("end") is None or not cd.get("date"):
            return cd
        start, end = combine(cd["date"], cd["start"], cd["end"], room.floor.building.site.tz)
        if end <= start:
            self.add_error("end", gettext("The end must be after the start."))
        else:
            # The service decides about the past: a running booking may still be extended.
            cd["start_at"], cd["end_at"] = start, end
        return cd


class RepeatBookingForm(forms.Form):
    """Make a single booking a series: how often, until when."""

    RULES = {"daily": "FREQ=DAILY", "weekly": "FREQ=WEEKLY", "biweekly": "FREQ=WEEKLY;INTERVAL=2"}

    repeat = forms.ChoiceField(
        label=_("Repeat"),
        choices=[("daily", _("Daily")), ("weekly", _("Weekly")), ("biweekly", _("Every 2 weeks"))],
        initial="weekly",
        widget=forms.RadioSelect,
    )
    until = forms.DateField(label=_("Last date"), widget=date_input())
    skip_conflicts = forms.BooleanField(
        label=_("Book the free dates and leave out the taken ones"), required=False
    )

    def __init__(self, *args, day: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.day = day

    def clean(self):
        cd = super().clean()
        until = cd.get("until")
        if until is not None and until <= self.day:
            self.add_error("until", gettext("The last date must be after the booking's date."))
        elif until is not None and cd.get("repeat"):
            cd["rrule"] = f"{self.RULES[cd['repeat']]};UNTIL={until:%Y%m%d}"
        return cd


class PlanFilterForm(forms.Form):
    """The day plan's filter: rooms with at least so many seats and this equipment (a GET
    form, works without JavaScript). Invalid input filters nothing; the page says why."""

    people = forms.IntegerField(
        label=_("At least this many seats"),
        min_value=1,
        max_value=MAX_PEOPLE,
        required=False,
        widget=forms.NumberInput(),
    )
    equipment = forms.MultipleChoiceField(
        label=_("Equipment"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, data, *, equipment: list, language: str):
        super().__init__(data)
        self.fields["equipment"].choices = [(e.code, e.localized_name(language)) for e in equipment]
        self.fields["people"].hide_optional = True

    @property
    def query(self) -> str:
        """The valid filter as a query string (``people=4&equipment=projector``), for links."""
        if not self.is_valid():
            return ""
        q = QueryDict(mutable=True)
        if self.cleaned_data["people"]:
            q["people"] = str(self.cleaned_data["people"])
        q.setlist("equipment", self.cleaned_data["equipment"])
        return q.urlencode()


class MineFilterForm(forms.Form):
    """My bookings' filter: which list, which room, which days (a GET form, works without JavaScript)."""

    UPCOMING, PAST, CANCELLED = "upcoming", "past", "cancelled"

    show = forms.ChoiceField(
        label=_("Show"),
        choices=[(UPCOMING, _("Upcoming")), (PAST, _("Past")), (CANCELLED, _("Cancelled"))],
        required=False,
    )
    room = forms.TypedChoiceField(label=_("Room"), coerce=int, required=False, empty_value=None)
    date_from = forms.DateField(label=_("From"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("Until"), required=False, widget=date_input())

    def __init__(self, data, *, rooms: list[Room]):
        super().__init__(data)
        self.fields["room"].choices = [("", gettext("All rooms"))] + [(r.pk, r.place_label) for r in rooms]
        self.fields["show"].hide_optional = True
        self.fields["room"].hide_optional = True

    def clean(self):
        cd = super().clean()
        if cd.get("date_from") and cd.get("date_to") and cd["date_to"] < cd["date_from"]:
            self.add_error("date_to", gettext("The end date must not be before the start date."))
        return cd

    @property
    def filtered(self) -> bool:
        """Whether a list was asked for (the page then shows that list alone)."""
        return self.is_bound and any(self.data.get(name) for name in self.fields)
