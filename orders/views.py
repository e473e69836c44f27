"""Staff pages: services of a booking (price of each line and the total before saving); the provider's day."""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from bookings.errors import BookingError
from bookings.models import Booking
from bookings.services.bookings import can_manage
from bookings.views.errors import refuse_form

from . import costcentres, reports, selectors, services
from .booking_centre import set_booking_cost_centre
from .daylist_pdf import day_list_pdf
from .export import csv_bytes, xlsx_bytes
from .models import Item, Order, Provider
from .money import charge, text


class OrderForm(forms.Form):
    item = forms.ModelChoiceField(queryset=Item.objects.none(), label=gettext_lazy("Service"))
    quantity = forms.IntegerField(
        label=gettext_lazy("Quantity"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=gettext_lazy("Empty: one per attendee for per-person items."),
    )
    time = forms.TimeField(
        label=gettext_lazy("Delivery time"), required=False, help_text=gettext_lazy("Empty: at the start.")
    )
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)

    def __init__(self, *args, booking: Booking, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = Item.objects.filter(
            active=True, provider__site=booking.room.floor.building.site
        )


def _booking(request, pk: int) -> Booking:
    booking = get_object_or_404(Booking.objects.select_related("room__floor__building__site"), pk=pk)
    if not can_manage(request.user, booking):
        raise PermissionDenied(_("Only the organizer can order services for this booking."))
    return booking


def _deliver_at(booking: Booking, value) -> datetime | None:
    if value is None:
        return None
    tz = booking.room.floor.building.site.tz
    return datetime.combine(booking.span.lower.astimezone(tz).date(), value, tz)


class BookingCostCentreForm(forms.Form):
    cost_centre = forms.CharField(
        label=gettext_lazy("Cost centre of this booking"),
        required=False,
        max_length=20,
        help_text=gettext_lazy(
            "Charged for the room, and for services that name no other. Empty: the organizer's default."
        ),
    )


def _context(request, booking: Booking, form: OrderForm, now: datetime, centre_form=None) -> dict:
    lines, total = selectors.lines_of(booking)
    named = costcentres.of_booking(booking)
    late = {c.order.pk: c for c in services.late_charges(booking=booking, now=now)}
    for line in lines:
        # What cancelling this line now would still cost, told before the booker confirms.
        line.late = late.get(line.pk)
    return {
        "booking": booking,
        "tz": booking.room.floor.building.site.tz,
        "lines": lines,
        "total": total,
        "offers": [
            {
                "item": o.item,
                "deadline": o.deadline,
                "open": o.open,
                # The cut-off in words, where it has passed.
                "closed": None
                if o.open
                else services.cutoff_message(
                    o.item,
                    deliver_at=booking.span.lower,
                    limit=o.deadline,
                    now=now,
                    tz=booking.room.floor.building.site.tz,
                ),
            }
            for o in selectors.offers(booking, now=now)
        ],
        "form": form,
        "named_centre": named,
        "default_centre": costcentres.default_for(booking.organizer),
        "centre_form": centre_form
        or BookingCostCentreForm(initial={"cost_centre": named.code if named else ""}),
        "nav": "mine",
    }


@login_required
@require_http_methods(["GET", "POST"])
def booking_services(request, pk: int):
    """The booking's lines and total; add one: "Show price" first, then "Order"."""
    now = timezone.now()
    booking = _booking(request, pk)
    form = OrderForm(request.POST or None, booking=booking)
    context = _context(request, booking, form, now)
    total = context["total"]
    status = 200
    if request.method == "POST" and form.is_valid():
        cd = form.cleaned_data
        item = cd["item"]
        quantity = cd["quantity"] or services.default_quantity(item, booking)
        if request.POST.get("action") == "order":
            try:
                services.order_service(
                    booking=booking,
                    item=item,
                    actor=request.user,
                    quantity=quantity,
                    note=cd["note"],
                    deliver_at=_deliver_at(booking, cd["time"]),
                    now=now,
                )
            except BookingError as exc:
                status = refuse_form(
                    form,
                    exc,
                    fields={
                        "item": "item",
                        "quantity": "quantity",
                        "note": "note",
                        "deliver_at": "time",
                        "cost_centre": None,
                    },
                )
            else:
                messages.success(request, _("%(item)s was ordered.") % {"item": item.display_name()})
                return redirect("orders:booking", pk=booking.pk)
        else:
            amount = charge(quantity, item.price)
            context["preview"] = {
                "item": item,
                "quantity": quantity,
                "amount": amount,
                "total": total + amount,
            }
    elif request.method == "POST":
        status = 422
    return render(request, "orders/booking.html", context, status=status)


@login_required
@require_POST
def booking_cost_centre(request, pk: int):
    """Name the booking's cost centre (its room and its lines' default), or clear it."""
    now = timezone.now()
    booking = _booking(request, pk)
    centre_form = BookingCostCentreForm(request.POST)
    if centre_form.is_valid():
        try:
            centre = set_booking_cost_centre(
                booking=booking, actor=request.user, code=centre_form.cleaned_data["cost_centre"], now=now
            )
        except BookingError as exc:
            status = refuse_form(centre_form, exc, fields={"cost_centre": "cost_centre"})
        else:
            if centre is None:
                messages.success(request, _("The booking is charged to the organizer's default cost centre."))
            else:
                messages.success(
                    request, _("The booking is charged to cost centre %(code)s.") % {"code": centre.code}
                )
            return redirect("orders:booking", pk=booking.pk)
    else:
        status = 422
    context = _context(request, booking, OrderForm(booking=booking), now, centre_form=centre_form)
    return render(request, "orders/booking.html", context, status=status)


@login_required
@require_POST
def cancel_line(request, pk: int, line: int):
    booking = _booking(request, pk)
    order = get_object_or_404(Order, pk=line, booking=booking)
    try:
        services.cancel_order(order=order, actor=request.user)
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The line was cancelled."))
    return redirect("orders:booking", pk=booking.pk)


@login_required
@require_POST
def change_line(request, pk: int, line: int):
    """Change a line's quantity; a reduction after the cut-off is confirmed after being told its cost."""
    now = timezone.now()
    booking = _booking(request, pk)
    order = get_object_or_404(Order.objects.select_related("item"), pk=line, booking=booking)
    try:
        quantity = int(request.POST.get("quantity", ""))
    except ValueError:
        messages.error(request, _("Please enter the quantity as a whole number."))
        return redirect("orders:booking", pk=booking.pk)
    late = services.reduction_charge(order, quantity=quantity, now=now)
    if late and request.POST.get("confirm") != "yes":
        # Told before confirming: what the part taken off still costs.
        context = _context(request, booking, OrderForm(booking=booking), now)
        context["confirm"] = {
            "line": order,
            "quantity": quantity,
            "amount": late,
            "percent": order.item.late_charge_percent,
        }
        return render(request, "orders/booking.html", context)
    try:
        services.change_order(
            order=order,
            actor=request.user,
            quantity=quantity,
            confirmed=request.POST.get("confirm") == "yes",
            now=now,
        )
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The quantity was changed."))
    return redirect("orders:booking", pk=booking.pk)


def _provider(request, pk: int) -> Provider:
    provider = get_object_or_404(Provider.objects.select_related("site"), pk=pk)
    if not services.may_work(request.user, provider):
        raise PermissionDenied(_("Only the provider's staff can see its orders."))
    return provider


@login_required
def provider_day(request, pk: int):
    """Today's and tomorrow's orders of a provider, by delivery time; lines changed since this
    worker's last look are marked."""
    provider = _provider(request, pk)
    now = timezone.now()
    since = services.look_at_day_list(provider=provider, user=request.user, now=now)
    return render(
        request,
        "orders/provider_day.html",
        {
            "provider": provider,
            "tz": provider.site.tz,
            "since": since,
            "days": selectors.day_list(provider, now=now, since=since),
        },
    )


@login_required
def provider_day_pdf(request, pk: int):
    """The day list to print; printing it does not count as a look."""
    provider = _provider(request, pk)
    now = timezone.now()
    content = day_list_pdf(provider, selectors.day_list(provider, now=now), now=now)
    response = HttpResponse(content, content_type="application/pdf")
    day = now.astimezone(provider.site.tz).date()
    response["Content-Disposition"] = f'inline; filename="orders-{provider.pk}-{day:%Y-%m-%d}.pdf"'
    return response


@login_required
@require_POST
def set_line_status(request, pk: int, line: int):
    provider = _provider(request, pk)
    order = get_object_or_404(Order, pk=line, item__provider=provider)
    try:
        services.set_status(order=order, actor=request.user, status=request.POST.get("status", ""))
    except BookingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Status saved."))
    return redirect("orders:provider_day", pk=provider.pk)


REPORT_COLUMNS = ["month", "receiver_cost_centre", "sender_cost_centre", "provider", "lines", "amount"]


@login_required
def charges_report(request):
    """The month's charges per cost centre and provider (?month=2027-03), as a page, CSV or XLSX.

    For people with the "SAP export" permission, as the batches are.
    """
    if not request.user.has_perm("orders.sap_export"):
        raise PermissionDenied(_("Only controlling (the SAP export permission) sees the charges."))
    today = timezone.localdate()
    try:
        year, month = (int(part) for part in request.GET.get("month", f"{today:%Y-%m}").split("-"))
        first = datetime(year, month, 1).date()
    except ValueError:
        return render(request, "400.html", {"message": _("Please give the month as YYYY-MM.")}, status=400)
    rows, total = reports.monthly_charges(first)
    lines = [
        {
            "month": f"{first:%Y-%m}",
            "receiver_cost_centre": r.receiver_cost_centre,
            "sender_cost_centre": r.sender_cost_centre,
            "provider": r.provider,
            "lines": r.lines,
            "amount": text(r.amount),
        }
        for r in rows
    ]
    kind = request.GET.get("format", "")
    if kind in ("csv", "xlsx"):
        content = (
            csv_bytes(lines, REPORT_COLUMNS)
            if kind == "csv"
            else xlsx_bytes(lines, REPORT_COLUMNS, title="charges")
        )
        types = {
            "csv": "text/csv; charset=utf-8",
            "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
        response = HttpResponse(content, content_type=types[kind])
        response["Content-Disposition"] = f'attachment; filename="charges-{first:%Y-%m}.{kind}"'
        return response
    return render(request, "orders/report.html", {"rows": rows, "total": total, "month": first})
