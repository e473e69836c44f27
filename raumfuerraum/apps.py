"""The project's own app configurations."""

# Modules, not classes: an AppConfig class imported here would become this app's default.
from axes import apps as axes_apps
from django.contrib.admin import apps
from django.utils.translation import gettext_lazy as _


class AdminConfig(apps.AdminConfig):
    """django.contrib.admin with our site (raumfuerraum.admin_site.AdminSite)."""

    default = False
    default_site = "raumfuerraum.admin_site.AdminSite"

    def ready(self) -> None:
        super().ready()
        # Here, because every app's models are loaded by the time any ready() runs.
        from .model_names import name_links

        name_links()


class AxesConfig(axes_apps.AppConfig):
    """django-axes (sign-in lock-outs), named for the people who read the admin."""

    default = False
    verbose_name = _("Sign-in attempts and lock-outs")
