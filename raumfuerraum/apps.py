"""The project's own app configurations."""

from django.contrib.admin import apps


class AdminConfig(apps.AdminConfig):
    """django.contrib.admin with our site (raumfuerraum.admin_site.AdminSite)."""

    default = False
    default_site = "raumfuerraum.admin_site.AdminSite"
