from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingsConfig(AppConfig):
    name = "bookings"
    verbose_name = _("Room booking")

    def ready(self):
        # A room given back or decided may be the one the other rooms of its meeting wait for.
        from . import hooks
        from .services.meetings import on_room_cancelled, on_room_decided

        hooks.on_cancel(on_room_cancelled)
        hooks.on_decide(on_room_decided)
