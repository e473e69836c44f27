"""No tables: the reports read the bookings. The model only carries the permission."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_reports", _("Can see the utilisation reports of all rooms"))]
        verbose_name = _("utilisation report")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
