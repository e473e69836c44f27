"""Pages: a host's visits (register with or without a booking), a reception's day, the
fire-safety list. Refusals go through the pages' one error table (bookings.views.errors)."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from bookings.errors import BookingError, InvalidBooking
from bookings.models import Booking, Building, Site
from bookings.notifications.compose import name_of
from bookings.views.errors import form_status

from . import selectors, services
from .access import reception_site_ids, visible_visitors, visible_visits, works_reception
from .badges import badges_pdf
from .kiosk import TooManyAttempts, check_in_by_code, kiosk_for_token
from .models import Reception, Visit, Visitor
from .services import FIELDS


def _time(day: str, clock: str, tz) -> datetime:
    try:
        return datetime.combine(
            datetime.strptime(day, "%Y-%m-%d").date(), time.fromisoformat(clock), tzinfo=tz
        )
    except ValueError:
        raise InvalidBooking(
            _("Please give the date as YYYY-MM-DD and times as HH:MM."), field="start"
        ) from None


def _register(request) -> Visit:
    data = {f: request.POST.get(f, "") for f in FIELDS}
    booking_id = request.POST.get("booking", "")
    if booking_id:
        booking = Booking.objects.filter(pk=booking_id if booking_id.isdigit() else 0).first()
        if booking is None:
            raise InvalidBooking(_("Please choose one of your bookings."), field="booking")
        return services.register_visit(host=request.user, booking=booking, visitors=[data])
    building_id = request.POST.get("building", "")
    building = (
        Building.objects.select_related("site").filter(pk=building_id if building_id.isdigit() else 0).first()
    )
    if building is None:
        raise InvalidBooking(_("Please choose a building."), field="building")
    tz = building.site.tz
    day = request.POST.get("day", "")
    start = _time(day, request.POST.get("start", ""), tz)
    end = _time(day, request.POST.get("end", ""), tz)
    return services.register_visit(
        host=request.user, building=building, start=start, end=end, visitors=[data]
    )


@login_required
@require_http_methods(["GET", "POST"])
def mine(request):
    """The host's visits, and the form to register one."""
    now = timezone.now()
    status, error, field = 200, "", ""
    if request.method == "POST":
        try:
            _register(request)
        except BookingError as exc:
            status, error, field = form_status(exc), exc.message, getattr(exc, "field", "") or ""
        else:
            messages.success(request, _("The visit is registered; each visitor gets an invitation."))
            return redirect("visitors:mine")
    context = {
        "nav": "visitors",
        "visits": selectors.hosted_visits(request.user, since=now),
        "bookings": Booking.objects.filter(
            organizer=request.user, status__in=Booking.ACTIVE, span__startswith__gt=now
        )
        .select_related("room")
        .order_by("span")[:50],
        "buildings": Building.objects.select_related("site").order_by("site__name", "name"),
        "visitor_languages": Visitor.Language.choices,
        "form": request.POST if request.method == "POST" else {},
        "error": error,
        "error_field": field,
        "now": now,
    }
    return render(request, "visitors/mine.html", context, status=status)


@login_required
@require_POST
def cancel(request, pk: int):
    visit = get_object_or_404(visible_visits(request.user), pk=pk)
    try:
        services.cancel_visit(visit=visit, actor=request.user)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The visit is cancelled; the visitors are told."))
    return redirect("visitors:mine")


def _reception_site(request, site_id: int) -> Site:
    site = get_object_or_404(Site, pk=site_id)
    if not works_reception(request.user, site):
        raise PermissionDenied(_("Only the reception of this site sees its visitors."))
    return site


@login_required
def receptions(request):
    """Where a reception user starts: their site's day (or a choice of sites)."""
    sites = Site.objects.order_by("name")
    if not request.user.is_superuser and not request.user.has_perm("visitors.change_visit"):
        sites = sites.filter(pk__in=reception_site_ids(request.user))
    sites = list(sites)
    if len(sites) == 1:
        return redirect("visitors:reception", site_id=sites[0].pk)
    return render(request, "visitors/receptions.html", {"nav": "reception", "sites": sites})


@login_required
@require_http_methods(["GET", "POST"])
def reception(request, site_id: int):
    """A reception's day: expected, overdue, arrived, left; search; walk-ins."""
    site = _reception_site(request, site_id)
    now = timezone.now()
    buildings = list(site.buildings.order_by("name"))
    building = next((b for b in buildings if str(b.pk) == request.GET.get("building")), None)
    status, error = 200, ""
    if request.method == "POST":
        host = (
            get_user_model()
            .objects.filter(username=request.POST.get("host", "").strip(), is_active=True)
            .first()
        )
        place = next((b for b in buildings if str(b.pk) == request.POST.get("building")), None)
        try:
            if host is None:
                raise InvalidBooking(_("Please give the host's user name."), field="host")
            if place is None:
                raise InvalidBooking(_("Please choose a building."), field="building")
            data = {f: request.POST.get(f, "") for f in FIELDS}
            visitor = services.register_walk_in(building=place, host=host, actor=request.user, data=data)
        except BookingError as exc:
            status, error = form_status(exc), exc.message
        else:
            messages.success(request, _("%(name)s is checked in; the host is told.") % {"name": visitor.name})
            return redirect(request.get_full_path())
    day = now.astimezone(site.tz).date()
    query = request.GET.get("q", "")[:100]
    rows = [
        (v, v.state(now)) for v in selectors.day_visitors(site=site, day=day, building=building, query=query)
    ]
    context = {
        "nav": "reception",
        "site": site,
        "buildings": buildings,
        "building": building,
        "day": day,
        "query": query,
        "rows": rows,
        "counts": {
            s: sum(1 for _v, state in rows if state == s) for s in ("expected", "overdue", "arrived", "left")
        },
        "error": error,
        "form": request.POST if request.method == "POST" else {},
    }
    return render(request, "visitors/reception.html", context, status=status)


def _back(request, visitor: Visitor):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("visitors:reception", site_id=visitor.visit.building.site_id)


@login_required
@require_POST
def check_in(request, pk: int):
    visitor = get_object_or_404(visible_visitors(request.user).select_related("visit__building__site"), pk=pk)
    try:
        services.check_in_visitor(visitor=visitor, actor=request.user)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s is checked in; the host is told.") % {"name": visitor.name})
    return _back(request, visitor)


@login_required
@require_POST
def check_out(request, pk: int):
    visitor = get_object_or_404(visible_visitors(request.user).select_related("visit__building__site"), pk=pk)
    try:
        services.check_out_visitor(visitor=visitor, actor=request.user)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s is checked out; the host is told.") % {"name": visitor.name})
    return _back(request, visitor)


@login_required
def present(request, site_id: int):
    """The fire-safety list: who is in the building now, ready to print."""
    site = _reception_site(request, site_id)
    visitors = list(selectors.in_building(site=site))
    return render(
        request,
        "visitors/present.html",
        {
            "nav": "reception",
            "site": site,
            "visitors": visitors,
            "now": timezone.now(),
            "reception": Reception.objects.filter(site=site).first(),
        },
    )


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@login_required
def badge(request, pk: int):
    """One visitor's badge, for the reception of the visit's site."""
    visitor = get_object_or_404(
        visible_visitors(request.user).select_related("visit__building__site", "visit__host"), pk=pk
    )
    _reception_site(request, visitor.visit.building.site_id)
    return _pdf(badges_pdf([visitor], language=get_language()), f"badge-{visitor.pk}.pdf")


@login_required
def day_badges(request, site_id: int):
    """Badges for the day's visitors not yet gone, one page each."""
    site = _reception_site(request, site_id)
    day = timezone.now().astimezone(site.tz).date()
    visitors = selectors.day_visitors(site=site, day=day).exclude(status=Visitor.Status.LEFT)
    return _pdf(badges_pdf(visitors, language=get_language()), f"badges-{day.isoformat()}.pdf")


@require_http_methods(["GET", "POST"])
def kiosk(request, token: str):
    """The self check-in tablet: a visitor types the code from their invitation, nothing else."""
    place = kiosk_for_token(token)
    if place is None:
        raise Http404
    language = request.GET.get("lang") if request.GET.get("lang") in ("de", "en") else place.language
    with translation.override(language):
        status, error, welcome = 200, "", None
        if request.method == "POST":
            try:
                welcome = check_in_by_code(kiosk=place, code=request.POST.get("code", ""), now=timezone.now())
            except TooManyAttempts:
                status = 429
                error = _("Too many attempts. Please wait a minute or ask at the reception desk.")
            except BookingError as exc:
                status, error = form_status(exc), exc.message
        context = {
            "kiosk": place,
            "language": language,
            "other_language": "en" if language == "de" else "de",
            "error": error,
            "welcome": welcome,
            "host": name_of(welcome.visit.host) if welcome else "",
        }
        response = render(request, "visitors/kiosk.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
