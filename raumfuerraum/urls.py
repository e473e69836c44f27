from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.static import serve

from bookings.api import api
from integrations.directory.forms import DirectoryAuthenticationForm
from integrations.exchange.webhook import graph_notification
from ops import metrics

from . import health


def favicon(request):
    """Browsers ask for /favicon.ico on every page: the icon, not a 404 in their console."""
    return redirect(static("bookings/favicon.ico"), permanent=True)


urlpatterns = [
    path("favicon.ico", favicon),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("api/v1/", api.urls),
    # Microsoft Graph's change notifications (RFR_GRAPH_NOTIFICATION_URL points here).
    path("exchange/graph/notify", graph_notification, name="exchange-graph-notify"),
    path("admin/", admin.site.urls),
    path("services/", include("orders.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=DirectoryAuthenticationForm
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("ops.urls")),
    path("", include("reports.urls")),
    path("", include("displays.urls")),
    path("", include("visitors.urls")),
    path("", include("privacy.urls")),
    path("", include("bookings.urls")),
    # Media is write-once and content-addressed; a reverse proxy may serve it instead.
    path(f"{settings.MEDIA_URL.strip('/')}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}),
]
