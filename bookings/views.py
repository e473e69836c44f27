"""Server-rendered pages for staff."""

from django.shortcuts import render


def home(request):
    """Start page: where to go from here (the booking UI grows here)."""
    return render(request, "bookings/home.html")
