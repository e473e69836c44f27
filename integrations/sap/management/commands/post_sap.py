"""manage.py post_sap: post the pending export batches to the live SAP (RFR_SAP_TARGET=odata or rfc)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.base import IntegrationError
from integrations.sap.conf import adapter_from_env
from integrations.sap.posting import post_pending
from orders.models import ExportBatch


class Command(BaseCommand):
    help = (
        "Post the CO lines of pending SAP export batches through OData (RFR_SAP_ODATA_URL) "
        "or RFC (RFR_SAP_TARGET=rfc)."
    )

    def handle(self, *args, **options):
        try:
            sap = adapter_from_env()
        except IntegrationError as exc:
            raise CommandError(str(exc)) from exc
        if sap is None:
            raise CommandError(
                "RFR_SAP_ODATA_URL is not set and RFR_SAP_TARGET is not rfc: no live SAP to post to."
            )
        failed = False
        for batch in post_pending(sap):
            self.stdout.write(f"Batch {batch.number}: {batch.live} {batch.live_error}".rstrip())
            failed = failed or batch.live != ExportBatch.Live.POSTED
        if failed:
            raise CommandError("Not every batch was posted; see SAP's answer above.")
