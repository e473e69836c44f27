from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "integrations.directory"
    label = "directory"
    verbose_name = _("Company directory")

    def ready(self) -> None:
        from django.contrib import admin

        from . import forms
        from .login import ldap_available

        if ldap_available():
            from . import backend

            backend.connect_signals()
        # The admin's own sign-in explains an unreachable directory and a lock-out too.
        admin.site.login_form = forms.DirectoryAdminAuthenticationForm
