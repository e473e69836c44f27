from django.urls import path

from .views import approvals as approval_views
from .views import checkin as checkin_views
from .views import delegates as delegate_views
from .views import feeds as feed_views
from .views import meetings as meeting_views
from .views import mybookings
from .views import people as people_views
from .views import staff as views
from .views import waiting as waiting_views

app_name = "bookings"
urlpatterns = [
    path("", views.home, name="home"),
    path("book/", views.book, name="book"),
    path("plan/", views.timeline, name="timeline"),
    path("my/", mybookings.mine, name="mine"),
    path("my/delegates/", delegate_views.delegates, name="delegates"),
    path("my/delegates/<int:pk>/end/", delegate_views.revoke, name="end_delegation"),
    path("people/", people_views.search, name="people"),
    path("waiting/", waiting_views.join, name="join_waiting"),
    path("waiting/<int:pk>/leave/", waiting_views.leave, name="leave_waiting"),
    path("waiting/<int:pk>/offer/", waiting_views.answer_offer, name="answer_offer"),
    path("bookings/<int:pk>/change/", mybookings.change, name="change"),
    path("bookings/<int:pk>/cancel/", mybookings.cancel, name="cancel"),
    path("bookings/<int:pk>/check-in/", checkin_views.check_in, name="check_in"),
    path("series/<int:pk>/cancel/", mybookings.cancel_series, name="cancel_series"),
    path("rooms/<int:pk>/", views.room, name="room"),
    path("approvals/", approval_views.queue, name="approvals"),
    path("approvals/<int:pk>/", approval_views.decide_in_queue, name="approval"),
    path("approvals/decide/<str:token>/", approval_views.decide_by_link, name="decide"),
    path("meetings/new/", meeting_views.new, name="new_meeting"),
    path("meetings/<int:pk>/", meeting_views.detail, name="meeting"),
    path("meetings/<int:pk>/move/", meeting_views.move, name="move_meeting"),
    path("meetings/<int:pk>/cancel/", meeting_views.cancel, name="cancel_meeting"),
    path(
        "meetings/<int:pk>/rooms/<int:booking_pk>/cancel/",
        meeting_views.cancel_room,
        name="cancel_meeting_room",
    ),
    path("calendar/", feed_views.feeds, name="feeds"),
    path("calendar/<int:pk>/revoke/", feed_views.revoke, name="revoke_feed"),
    path("calendar/<str:token>.ics", feed_views.feed, name="feed"),
]
