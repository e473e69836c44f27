"""Cross-cutting HTTP behaviour: the version header, JSON errors under /api/."""

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _


class VersionHeaderMiddleware:
    """Every response names the release that served it (upgrades are verified by it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-RFR-Version"] = settings.VERSION
        return response


class ApiErrorsAsJsonMiddleware:
    """Routing errors under /api/ (unknown path, wrong method) answer in JSON like the rest.

    The API's own handlers already speak JSON; this covers what Django's URL resolver
    and method dispatch answer before the API sees the request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in (404, 405)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            if response.status_code == 404:
                replacement = JsonResponse({"detail": _("Not found.")}, status=404)
            else:
                replacement = JsonResponse({"detail": _("This method is not allowed here.")}, status=405)
                replacement["Allow"] = response.get("Allow", "")
            return replacement
        return response
