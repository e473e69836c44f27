"""The utilisation report page: a place, a period, charts and the same numbers in tables."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bookings.models import PolicyHours

from . import charts, export, scope, utilisation

HOURS = range(6, 22)  # the heat map's columns; bookable time outside is rare and still in the tables


class ReportForm(forms.Form):
    place = forms.ChoiceField(label=gettext_lazy("Place"))
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=[
            (scope.WEEK, gettext_lazy("Week")),
            (scope.MONTH, gettext_lazy("Month")),
            (scope.QUARTER, gettext_lazy("Quarter")),
            (scope.CUSTOM, gettext_lazy("From–to")),
        ],
    )
    start = forms.DateField(label=gettext_lazy("From (or a day in the period)"))
    end = forms.DateField(label=gettext_lazy("To (from–to only)"), required=False)

    def __init__(self, *args, places: list[scope.Place], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(p.key, p.label) for p in places]

    def clean(self):
        data = super().clean()
        kind, start, end = data.get("period"), data.get("start"), data.get("end")
        if kind == scope.CUSTOM and start:
            if end is None or end < start:
                self.add_error("end", _("Give a last day on or after the first."))
            elif end - start > scope.LONGEST:
                self.add_error("end", _("A report covers at most 400 days."))
        if start and not self.errors:
            data["days"] = scope.period(kind, start, end)
        return data


def _defaults(places: list[scope.Place]) -> dict:
    """Last month of the first place: what a facility manager opens the page for."""
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    return {"place": places[0].key, "period": scope.MONTH, "start": last_month.replace(day=1).isoformat()}


@login_required
def report(request):
    places = scope.places(request.user)
    if not places:
        raise PermissionDenied(_("You may not see utilisation reports."))
    data = request.GET.copy() if "place" in request.GET else _defaults(places)
    form = ReportForm(data, places=places)
    # The downloads repeat the page's question.
    query = urlencode({k: data.get(k) or "" for k in ("place", "period", "start", "end")})
    context = {"form": form, "nav": "reports", "query": query}
    if form.is_valid():
        start, end = form.cleaned_data["days"]
        context.update(figures(scope.room_ids(request.user, form.cleaned_data["place"]), start, end))
    return render(request, "reports/report.html", context, status=200 if form.is_valid() else 400)


@login_required
def download(request, table: str, kind: str):
    """One table as CSV, or every table as XLSX, for the same place and period as the page."""
    places = scope.places(request.user)
    if not places:
        raise PermissionDenied(_("You may not see utilisation reports."))
    if kind not in ("csv", "xlsx") or (kind == "csv" and table not in export.TABLES):
        raise Http404
    form = ReportForm(request.GET, places=places)
    if not form.is_valid():
        return HttpResponse(
            "\n".join(str(e) for errors in form.errors.values() for e in errors),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    start, end = form.cleaned_data["days"]
    found = export.tables(figures(scope.room_ids(request.user, form.cleaned_data["place"]), start, end))
    name = f"utilisation-{start:%Y-%m-%d}"
    if kind == "csv":
        _title, header, rows = found[table]
        response = HttpResponse(export.as_csv(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-{table}.csv"'
        return response
    response = HttpResponse(
        export.as_xlsx(found),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def figures(room_ids: list[int], start: date, end: date) -> dict:
    """Everything the page shows for these rooms and days, with the charts drawn."""
    rooms = utilisation.per_room(room_ids=room_ids, start=start, end=end)
    total = utilisation.total(rooms)
    sizes = utilisation.sizes(room_ids=room_ids, start=start, end=end)
    weeks = utilisation.weekly(room_ids=room_ids, start=start, end=end)
    cells = utilisation.heat_map(room_ids=room_ids, start=start, end=end)
    groups = utilisation.by_group(room_ids=room_ids, start=start, end=end)
    by_share = sorted((r for r in rooms if r.bookable_hours), key=lambda r: (r.booked_share, r.name))
    weekdays = [str(label)[:2] for _value, label in PolicyHours.Weekday.choices]
    share = {(c.weekday, c.hour): c.booked_share for c in cells}
    return {
        "start": start,
        "last": end - timedelta(days=1),
        "rooms": [(r, sizes.get(r.room_id)) for r in rooms],
        "total": total,
        "weeks": weeks,
        "groups": groups,
        "busiest": list(reversed(by_share[-3:])),
        "least_used": by_share[:3],
        "cells": cells,
        "heat_rows": [
            (label, [share.get((day, hour)) for hour in HOURS]) for day, label in enumerate(weekdays, 1)
        ],
        "hours": HOURS,
        "bar_chart": charts.bars(
            [(r.name, r.booked_share, r.used_share) for r in rooms], title=_("Booked and used, per room")
        ),
        "line_chart": charts.line(
            [(f"{w.monday:%d.%m.}", w.booked_share, w.booked_share_year_before) for w in weeks],
            title=_("Booked share per week, and a year before"),
        ),
        "heat_chart": charts.heat(share, weekdays, HOURS, title=_("Booked share by weekday and hour")),
    }
