"""Names for the link tables Django makes for many-to-many fields.

Django names such a row "Room_equipment object (1)" and its kind "room-equipment
relationship", from class names, in English; the admin shows both (when deleting a room,
in its history). Here each link reads "Elbe – Beamer" and its kind "Raum – Ausstattung",
from the two models' own translated names.
"""

from __future__ import annotations

from django.apps import apps
from django.db import models
from django.utils.text import format_lazy


def _link_str(self: models.Model) -> str:
    """Both ends of the link by their own names: "Elbe – Beamer"."""
    ends = [f for f in self._meta.fields if isinstance(f, models.ForeignKey)]
    return " – ".join(str(getattr(self, f.name)) for f in ends)


def name_links() -> None:
    """Give every auto-created link model a readable __str__ and a translated kind name."""
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.auto_created or not meta.fields:
            continue
        ends = [f.related_model._meta for f in meta.fields if isinstance(f, models.ForeignKey)]
        if len(ends) != 2:
            continue
        model.__str__ = _link_str  # type: ignore[method-assign]
        meta.verbose_name = format_lazy("{} – {}", ends[0].verbose_name, ends[1].verbose_name)
        meta.verbose_name_plural = format_lazy("{} – {}", ends[0].verbose_name, ends[1].verbose_name_plural)
