"""The month's charges per receiver cost centre and provider, from the postings (reversals net out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from .models import Posting, Provider


@dataclass(frozen=True)
class Row:
    receiver_cost_centre: str
    sender_cost_centre: str
    provider: str
    lines: int
    amount: Decimal


def month_bounds(month: date) -> tuple[date, date]:
    start = month.replace(day=1)
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return start, end


def monthly_charges(month: date) -> tuple[list[Row], Decimal]:
    """Rows by receiver, then sender; and the month's total (equal to the sum of the rows, to the cent)."""
    start, end = month_bounds(month)
    grouped = (
        Posting.objects.filter(posting_date__gte=start, posting_date__lt=end)
        .values("receiver_cost_centre", "sender_cost_centre", "order__item__provider")
        .annotate(lines=Count("pk"), amount=Sum("amount"))
        .order_by("receiver_cost_centre", "sender_cost_centre", "order__item__provider")
    )
    names = dict(Provider.objects.values_list("pk", "name"))
    rows = [
        Row(
            receiver_cost_centre=g["receiver_cost_centre"],
            sender_cost_centre=g["sender_cost_centre"],
            # A room's charge has no provider: it is the room's.
            provider=names.get(g["order__item__provider"], "") if g["order__item__provider"] else _("Rooms"),
            lines=g["lines"],
            amount=g["amount"],
        )
        for g in grouped
    ]
    return rows, sum((r.amount for r in rows), Decimal("0.00"))
