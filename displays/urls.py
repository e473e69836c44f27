from django.urls import path, re_path

from . import views

app_name = "displays"
# A token is 32 URL-safe characters; the views answer 404 for any that is unknown.
DISPLAY = r"(?P<token>[A-Za-z0-9_-]{20,64})"
urlpatterns = [
    re_path(rf"^d/{DISPLAY}$", views.kiosk, name="kiosk"),
    re_path(rf"^d/{DISPLAY}/status\.json$", views.status_json, name="status"),
    re_path(rf"^d/{DISPLAY}/check-in$", views.check_in, name="check_in"),
    re_path(rf"^d/{DISPLAY}/book-now$", views.book_now, name="book_now"),
    path("displays/fleet/", views.fleet, name="fleet"),
]
