from django.urls import path

from . import views

app_name = "visitors"
urlpatterns = [
    path("visitors/", views.mine, name="mine"),
    path("visitors/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("reception/", views.receptions, name="receptions"),
    path("reception/<int:site_id>/", views.reception, name="reception"),
    path("reception/<int:site_id>/present/", views.present, name="present"),
    path("reception/<int:site_id>/badges.pdf", views.day_badges, name="day_badges"),
    path("reception/visitors/<int:pk>/badge.pdf", views.badge, name="badge"),
    path("reception/visitors/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("reception/visitors/<int:pk>/check-out/", views.check_out, name="check_out"),
    path("kiosk/<str:token>/", views.kiosk, name="kiosk"),
]
