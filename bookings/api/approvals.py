"""Approvals through the API: room managers approve or reject pending bookings."""
