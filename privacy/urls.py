from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("my/data/", views.my_data, name="mine"),
    path("privacy/people/", views.people, name="people"),
    path("privacy/people/<int:pk>/erase/", views.erase, name="erase"),
]
for kind in views.KINDS:
    urlpatterns += [
        path(f"my/data.{kind}", views.my_download, {"kind": kind}, name=f"my_{kind}"),
        path(
            f"privacy/people/<int:pk>/data.{kind}",
            views.person_download,
            {"kind": kind},
            name=f"person_{kind}",
        ),
    ]
