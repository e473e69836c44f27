"""Check-in through the API."""
