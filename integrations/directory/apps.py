from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "integrations.directory"
    label = "directory"
    verbose_name = _("Company directory")

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib import admin
        from django.core.exceptions import ImproperlyConfigured

        from . import forms
        from .conf import from_env
        from .login import ldap_available

        # The project's settings import no app, so the directory reads its own variables
        # here, before anything serves: a malformed one still stops every start.
        settings.RFR_LDAP = from_env()
        if settings.RFR_LDAP and not ldap_available():
            raise ImproperlyConfigured(
                "RFR_LDAP_SERVER_URI is set, but python-ldap is not installed: install the [ldap] extra "
                "(pip install -e '.[ldap]'), which needs libldap2-dev and libsasl2-dev to build."
            )
        if ldap_available():
            from . import backend

            backend.connect_signals()
        # The admin's own sign-in explains an unreachable directory and a lock-out too.
        admin.site.login_form = forms.DirectoryAdminAuthenticationForm
