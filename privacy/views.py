"""Pages: a person downloads their own data; a privacy admin finds a person, downloads
their data or erases them. Downloads stream (see export.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from bookings.errors import BookingError
from bookings.views.errors import form_status

from . import erasure, export
from .access import is_privacy_admin
from .models import PrivacyEvent

KINDS = {
    "json": ("application/json", export.json_stream),
    "zip": ("application/zip", export.zip_stream),
}


def _download(person, kind: str, *, by=None) -> StreamingHttpResponse:
    content_type, stream = KINDS[kind]
    now = timezone.now()
    if by is not None and by.pk != person.pk:
        # Someone else's data leaving the system is on record (who, whose, when).
        PrivacyEvent.objects.create(
            kind=PrivacyEvent.Kind.EXPORTED, subject=person, actor=by, at=now, changes={"format": kind}
        )
    response = StreamingHttpResponse(stream(person, now=now), content_type=content_type)
    name = f"personal-data-{person.pk}-{now:%Y%m%d}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def my_data(request):
    """What is stored about me, and the two downloads."""
    return render(request, "privacy/mine.html", {"nav": "mine"})


@login_required
def my_download(request, kind: str):
    return _download(request.user, kind)


def _admin(request) -> None:
    if not is_privacy_admin(request.user):
        raise PermissionDenied(_("Only administrators handle other people's personal data."))


@login_required
def people(request):
    """Find a person by user name, name or e-mail address."""
    _admin(request)
    query = " ".join(request.GET.get("q", "").split())[:100]
    found = []
    if query:
        found = list(
            get_user_model()
            .objects.filter(
                Q(username__icontains=query)
                | Q(first_name__icontains=query)
                | Q(last_name__icontains=query)
                | Q(email__icontains=query)
            )
            .order_by("username")[:50]
        )
    return render(request, "privacy/people.html", {"query": query, "found": found})


@login_required
def person_download(request, pk: int, kind: str):
    _admin(request)
    return _download(get_object_or_404(get_user_model(), pk=pk), kind, by=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def erase(request, pk: int):
    """Confirm, then erase one person (Art. 17); the page says what stays and what goes."""
    _admin(request)
    person = get_object_or_404(get_user_model(), pk=pk)
    status, error = 200, ""
    if request.method == "POST":
        if request.POST.get("confirm", "").strip() != person.get_username():
            status, error = 422, _("Please type the user name to confirm.")
        else:
            try:
                done = erasure.erase_person(person=person, actor=request.user, now=timezone.now())
            except BookingError as exc:
                status, error = form_status(exc), exc.message
            else:
                messages.success(
                    request,
                    _(
                        "The person is erased: %(bookings)d bookings kept without their name, "
                        "%(cancelled)d future bookings cancelled."
                    )
                    % {"bookings": done.bookings_pseudonymised, "cancelled": done.bookings_cancelled},
                )
                return redirect("privacy:people")
    return render(request, "privacy/erase.html", {"person": person, "error": error}, status=status)
