from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Services and cost allocation")

    def ready(self) -> None:
        # Explicit wiring, one way: orders registers with bookings; bookings imports nothing of orders.
        from bookings import hooks

        from . import api  # noqa: F401  (adds the order routes to the one API)
        from .booking_centre import attach_chosen
        from .dialog import PART
        from .rooms import check_priced_booking
        from .services import cancel_orders_of, late_charge_notices, move_orders_of

        # In this order: the cost centre chosen with the booking is what the check looks at.
        hooks.on_create(attach_chosen)
        hooks.on_create(check_priced_booking)
        hooks.dialog_part(PART)
        hooks.on_cancel(cancel_orders_of)
        hooks.cancel_notice(late_charge_notices)
        hooks.on_move(move_orders_of)
