"""Money is Decimal and is rounded here, once: every amount in orders and exports comes from charge()."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def charge(quantity: int | Decimal, price: Decimal, percent: int = 100) -> Decimal:
    """quantity × price × percent/100, rounded half up to the cent (commercial rounding)."""
    return (Decimal(quantity) * price * Decimal(percent) / Decimal(100)).quantize(
        CENT, rounding=ROUND_HALF_UP
    )


def text(value: Decimal) -> str:
    """Two places with a decimal point, as the API and the export write it."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_UP):.2f}"
