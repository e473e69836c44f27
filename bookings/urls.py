from django.urls import path

from .views import staff as views

app_name = "bookings"
urlpatterns = [
    path("", views.home, name="home"),
    path("book/", views.book, name="book"),
    path("plan/", views.timeline, name="timeline"),
    path("my/", views.mine, name="mine"),
    path("bookings/<int:pk>/change/", views.change, name="change"),
    path("bookings/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("series/<int:pk>/cancel/", views.cancel_series, name="cancel_series"),
    path("rooms/<int:pk>/", views.room, name="room"),
]
