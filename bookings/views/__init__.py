"""The staff UI, one module per area (staff: finder, booking dialog, plan, room page;
mybookings; approvals; checkin; feeds); bookings/urls.py maps them. errors.py is how
every page answers a refused write."""
