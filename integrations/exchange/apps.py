from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "integrations.exchange"
    label = "exchange"
    verbose_name = _("Exchange calendar sync")

    def ready(self) -> None:
        from django.conf import settings

        from .conf import from_env

        # The project's settings import no app: the sync reads its own variables here,
        # before anything serves, so a malformed one stops every start with its name.
        settings.RFR_EXCHANGE = from_env()
