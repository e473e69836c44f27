from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitorsConfig(AppConfig):
    name = "visitors"
    verbose_name = _("Visitors")

    def ready(self) -> None:
        # The API is one NinjaAPI (bookings.api); bookings may not import the apps above it,
        # so this app adds its routes itself.
        from bookings.api import api

        from .api import router

        api.add_router("/", router)
