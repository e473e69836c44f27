"""Cross-cutting HTTP behaviour: the version header, read-only mode."""

from django.conf import settings


class VersionHeaderMiddleware:
    """Every response names the release that served it (upgrades are verified by it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-RFR-Version"] = settings.VERSION
        return response
