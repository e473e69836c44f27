"""The answer to a failed CSRF check: a translated page, or JSON under /api/.

Django's default is an English page that explains CSRF to a developer; a user needs to
know that the form was too old or came from elsewhere, and what to do.
"""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def csrf_failure(request, reason: str = ""):
    message = _("The security check (CSRF) failed: reload the page and try again, or use a bearer token.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=403)
    page = _("The form has expired or was sent from another page. Please reload the page and send it again.")
    return render(request, "403.html", {"exception": page}, status=403)
