"""The catalogue and a booking's orders in the JSON API (/api/v1/), on the one error table."""

from __future__ import annotations

from typing import Annotated

from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Schema
from pydantic import Field

from bookings.api import api
from bookings.api.schemas import Error, Id, IsoDatetime, Text
from bookings.models import Booking, Series, Site
from bookings.services.bookings import can_manage

from . import costcentres, services
from .booking_centre import set_booking_cost_centre
from .errors import InvalidOrder
from .models import Item, Order
from .money import text

ItemId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class CatalogueItemOut(Schema):
    id: int
    name: str
    unit: str
    price: str
    currency: str
    provider: str
    provider_id: int
    min_quantity: int
    max_quantity: int
    needs_note: bool


class OrderIn(Schema):
    item: ItemId
    quantity: Annotated[int, Field(ge=1, le=100000)] | None = None
    note: Text(max_length=500) = ""  # type: ignore[valid-type]
    deliver_at: IsoDatetime | None = None
    cost_centre: Text(max_length=10) | None = None  # type: ignore[valid-type]


class OrderOut(Schema):
    id: int
    booking: int
    item: int
    name: str
    quantity: int
    price: str
    amount: str
    currency: str
    deliver_at: str
    note: str
    cost_centre: str
    status: str


def item_dict(item: Item) -> dict:
    return {
        "id": item.pk,
        "name": item.display_name(),
        "unit": item.unit,
        "price": text(item.price),
        "currency": item.currency,
        "provider": item.provider.name,
        "provider_id": item.provider_id,
        "min_quantity": item.min_quantity,
        "max_quantity": item.max_quantity,
        "needs_note": item.needs_note,
    }


def order_dict(order: Order) -> dict:
    return {
        "id": order.pk,
        "booking": order.booking_id,
        "item": order.item_id,
        "name": order.item.display_name(),
        "quantity": order.quantity,
        "price": text(order.price),
        "amount": text(order.amount),
        "currency": order.currency,
        "deliver_at": order.deliver_at.isoformat(),
        "note": order.note,
        "cost_centre": order.cost_centre.code,
        "status": order.status,
    }


@api.get("/catalogue", response={200: list[CatalogueItemOut], 422: Error}, tags=["orders"])
def catalogue(request, site: Id = Query(...)):
    """The services orderable at a site, with their price as a decimal string."""
    if not Site.objects.filter(pk=site).exists():
        raise InvalidOrder(_("There is no site with this id."), field="site")
    items = Item.objects.filter(active=True, provider__site_id=site).select_related("provider")
    return JsonResponse([item_dict(i) for i in items.order_by("provider__name", "name")], safe=False)


def _own_booking(request, booking_id: int) -> Booking:
    """404 for a booking the caller may not manage: others' bookings are not revealed."""
    booking = get_object_or_404(Booking, pk=booking_id)
    if not can_manage(request.auth, booking):
        raise Http404
    return booking


@api.get("/bookings/{booking_id}/orders", response={200: list[OrderOut], 404: Error}, tags=["orders"])
def list_orders(request, booking_id: Id):
    """The booking's order lines, cancelled ones included."""
    booking = _own_booking(request, booking_id)
    orders = booking.orders.select_related("item", "cost_centre").order_by("deliver_at", "pk")
    return JsonResponse([order_dict(o) for o in orders], safe=False)


@api.post(
    "/bookings/{booking_id}/orders",
    response={201: OrderOut, 403: Error, 404: Error, 422: Error},
    tags=["orders"],
)
def create_order(request, booking_id: Id, payload: OrderIn):
    """Order a service with the booking; quantity defaults to the attendees for per-person items.

    422 for an unknown item, a quantity outside the item's limits, a missing note where the
    item needs one, or an unknown or expired cost centre; 403 when the cut-off has passed,
    the provider does not deliver then, or the booking is cancelled; 404 for another's booking.
    """
    booking = _own_booking(request, booking_id)
    item = Item.objects.select_related("provider").filter(pk=payload.item).first()
    if item is None:
        raise InvalidOrder(_("There is no such item."), field="item")
    order = services.order_service(
        booking=booking,
        item=item,
        actor=request.auth,
        quantity=payload.quantity,
        note=payload.note,
        deliver_at=payload.deliver_at,
        cost_centre=payload.cost_centre,
    )
    return JsonResponse(order_dict(order), status=201)


@api.delete(
    "/bookings/{booking_id}/orders/{order_id}",
    response={200: OrderOut, 403: Error, 404: Error},
    tags=["orders"],
)
def cancel_order(request, booking_id: Id, order_id: Id):
    """Cancel a line; after its cut-off the item's late share is still charged."""
    booking = _own_booking(request, booking_id)
    order = get_object_or_404(Order.objects.filter(Q(booking=booking)), pk=order_id)
    return JsonResponse(order_dict(services.cancel_order(order=order, actor=request.auth)))


class OrderChangeIn(Schema):
    quantity: Annotated[int, Field(ge=1, le=100000)]
    # After the cut-off a reduction still costs a share: the client shows it and confirms.
    accept_late_charge: bool = False


@api.patch(
    "/bookings/{booking_id}/orders/{order_id}",
    response={200: OrderOut, 403: Error, 404: Error, 422: Error},
    tags=["orders"],
)
def change_order(request, booking_id: Id, order_id: Id, payload: OrderChangeIn):
    """Change a line's quantity.

    After its cut-off more is refused (403, the cut-off in words) and less keeps the item's
    late share of the part taken off charged: without ``accept_late_charge`` that is a 403
    whose message names the amount, and nothing changes. 422 for a quantity outside the
    item's limits; 404 for another's booking.
    """
    booking = _own_booking(request, booking_id)
    order = get_object_or_404(Order.objects.filter(Q(booking=booking)), pk=order_id)
    changed = services.change_order(
        order=order, actor=request.auth, quantity=payload.quantity, confirmed=payload.accept_late_charge
    )
    return JsonResponse(order_dict(changed))


class SeriesOrderIn(Schema):
    item: ItemId
    quantity: Annotated[int, Field(ge=1, le=100000)] | None = None
    note: Text(max_length=500) = ""  # type: ignore[valid-type]
    cost_centre: Text(max_length=10) | None = None  # type: ignore[valid-type]


@api.post(
    "/series/{series_id}/orders", response={201: dict, 403: Error, 404: Error, 422: Error}, tags=["orders"]
)
def create_series_orders(request, series_id: Id, payload: SeriesOrderIn):
    """Order a service for every upcoming date of a series; dates refused are listed with the reason."""
    series = get_object_or_404(Series, pk=series_id)
    if series.organizer_id != request.auth.pk and not request.auth.has_perm("bookings.change_booking"):
        raise Http404
    item = Item.objects.select_related("provider").filter(pk=payload.item).first()
    if item is None:
        raise InvalidOrder(_("There is no such item."), field="item")
    result = services.order_for_series(
        series=series,
        item=item,
        actor=request.auth,
        quantity=payload.quantity,
        note=payload.note,
        cost_centre=payload.cost_centre,
    )
    return JsonResponse(
        {
            "orders": [order_dict(o) for o in result.ordered],
            "skipped": [{"booking": b.pk, "reason": reason} for b, reason in result.skipped],
        },
        status=201,
    )


class BookingCostCentreIn(Schema):
    # Empty or null: the booking names none, and its organizer's default is charged.
    cost_centre: Text(max_length=10) | None = None  # type: ignore[valid-type]


class BookingCostCentreOut(Schema):
    booking: int
    cost_centre: str | None = Field(description="the code the booking names; null: none is named")
    charged_to: str | None = Field(
        description="where its room (and lines naming no other) go: the named one, else the organizer's"
    )


def _centre_dict(booking: Booking) -> dict:
    named = costcentres.of_booking(booking)
    charged = named or costcentres.default_for(booking.organizer)
    return {
        "booking": booking.pk,
        "cost_centre": named.code if named else None,
        "charged_to": charged.code if charged else None,
    }


@api.get(
    "/bookings/{booking_id}/cost-centre", response={200: BookingCostCentreOut, 404: Error}, tags=["orders"]
)
def get_booking_cost_centre(request, booking_id: Id):
    """The cost centre the booking's room is charged to (and its lines default to)."""
    return JsonResponse(_centre_dict(_own_booking(request, booking_id)))


@api.put(
    "/bookings/{booking_id}/cost-centre",
    response={200: BookingCostCentreOut, 403: Error, 404: Error, 422: Error},
    tags=["orders"],
)
def put_booking_cost_centre(request, booking_id: Id, payload: BookingCostCentreIn):
    """Name the cost centre the booking's room is charged to, and its new lines default to.

    422 for an unknown cost centre or one not valid on the booking's day; 403 once the
    booking has taken place or is cancelled; 404 for another's booking. Nothing changes then.
    """
    booking = _own_booking(request, booking_id)
    set_booking_cost_centre(booking=booking, actor=request.auth, code=payload.cost_centre)
    return JsonResponse(_centre_dict(booking))
