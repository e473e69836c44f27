"""The people picker's search: colleagues from the (synced) directory by name, user name or mail."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import JsonResponse
from django.views.decorators.http import require_GET

# Fewer letters find half the company; more than a name needs is no search.
MIN_LENGTH, MAX_LENGTH = 2, 100
LIMIT = 10


@login_required
@require_GET
def search(request):
    """Up to ten active people whose name, user name or address contains every word typed."""
    text = request.GET.get("q", "").strip()
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH or "\x00" in text:
        return JsonResponse({"people": []})
    query = Q(is_active=True) & ~Q(email="")
    for word in text.split()[:5]:
        query &= (
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(username__icontains=word)
            | Q(email__icontains=word)
        )
    people = get_user_model().objects.filter(query).order_by("last_name", "first_name", "username")[:LIMIT]
    return JsonResponse(
        {
            "people": [
                {"name": p.get_full_name() or p.username, "username": p.username, "email": p.email}
                for p in people
            ]
        }
    )
