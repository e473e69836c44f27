"""What every integration (directory, calendar, SAP) shares: one error type.

Clients raise IntegrationError; ``permanent=True`` means retrying cannot help (bad
credentials, a rejected payload), so the outbox gives up and records why.
"""

from bookings.outbox import DeliveryError


class IntegrationError(DeliveryError):
    """A remote system failed; ``permanent`` tells the outbox whether to retry."""
