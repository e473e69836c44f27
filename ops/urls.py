from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("ops/status/", views.system_status, name="status"),
]
