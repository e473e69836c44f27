from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SapConfig(AppConfig):
    name = "integrations.sap"
    label = "sap"
    verbose_name = _("SAP")
