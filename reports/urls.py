from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.report, name="report"),
    path("reports/<slug:table>.<slug:kind>", views.download, name="download"),
]
