"""manage.py post_sap: post the pending export batches to the live SAP (RFR_SAP_TARGET=odata)."""

from django.core.management.base import BaseCommand, CommandError

from integrations.sap.conf import adapter_from_env
from integrations.sap.posting import post_pending
from orders.models import ExportBatch


class Command(BaseCommand):
    help = "Post the CO lines of pending SAP export batches through OData (needs RFR_SAP_ODATA_URL)."

    def handle(self, *args, **options):
        sap = adapter_from_env()
        if sap is None:
            raise CommandError("RFR_SAP_ODATA_URL is not set: no live SAP to post to.")
        failed = False
        for batch in post_pending(sap):
            self.stdout.write(f"Batch {batch.number}: {batch.live} {batch.live_error}".rstrip())
            failed = failed or batch.live != ExportBatch.Live.POSTED
        if failed:
            raise CommandError("Not every batch was posted; see SAP's answer above.")
