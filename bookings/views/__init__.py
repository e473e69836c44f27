"""The staff UI: one module per area; bookings/urls.py maps them."""
