from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("bookings/<int:pk>/", views.booking_services, name="booking"),
    path("bookings/<int:pk>/cost-centre/", views.booking_cost_centre, name="cost_centre"),
    path("bookings/<int:pk>/lines/<int:line>/cancel/", views.cancel_line, name="cancel_line"),
    path("bookings/<int:pk>/lines/<int:line>/change/", views.change_line, name="change_line"),
    path("providers/<int:pk>/", views.provider_day, name="provider_day"),
    path("providers/<int:pk>/day.pdf", views.provider_day_pdf, name="provider_day_pdf"),
    path("providers/<int:pk>/lines/<int:line>/status/", views.set_line_status, name="line_status"),
    path("charges/", views.charges_report, name="charges"),
]
