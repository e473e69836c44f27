"""manage.py sync_sap_cost_centres: the cost centre master list from the live SAP (OData or RFC)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.base import IntegrationError
from integrations.sap.conf import adapter_from_env
from integrations.sap.sync import sync_cost_centres


class Command(BaseCommand):
    help = (
        "Create or update the cost centres of RFR_SAP_CONTROLLING_AREA from SAP "
        "(needs RFR_SAP_ODATA_URL, or RFR_SAP_TARGET=rfc)."
    )

    def handle(self, *args, **options):
        try:
            sap = adapter_from_env()
            if sap is None:
                raise CommandError(
                    "RFR_SAP_ODATA_URL is not set and RFR_SAP_TARGET is not rfc: no live SAP to read from."
                )
            count = sync_cost_centres(sap, controlling_area=settings.RFR_SAP_CONTROLLING_AREA)
        except IntegrationError as exc:
            raise CommandError(f"SAP: {exc}; nothing was changed") from exc
        self.stdout.write(f"{count} cost centres read from SAP.")
