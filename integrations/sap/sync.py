"""Cost centres from a live SAP into the master list (created or updated, never deleted)."""

from __future__ import annotations

from django.db import transaction

from orders.models import CostCentre

from ..base import Sap


@transaction.atomic
def sync_cost_centres(sap: Sap, *, controlling_area: str) -> int:
    """Create or update every cost centre SAP lists; returns how many; raises IntegrationError (then none)."""
    records = list(sap.cost_centres(controlling_area=controlling_area))
    for record in records:
        CostCentre.objects.update_or_create(
            code=record.code,
            defaults={
                "name": record.name[:100],
                "valid_from": record.valid_from,
                "valid_to": record.valid_to,
            },
        )
    return len(records)
