"""Sign-in forms that say why a sign-in failed when it was not the password.

The backends cannot raise past django.contrib.auth.authenticate(), so they leave a
flag on the request (directory unreachable; django-axes' lock-out) that these forms
turn into the message the person sees.
"""

from __future__ import annotations

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .login import directory_unreachable
from .throttle import lockout_message


class DirectoryErrorsMixin:
    directory_error_messages = {
        "directory_unreachable": _(
            "Sign-in service unreachable: the company directory does not answer. "
            "Please try again in a few minutes."
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if getattr(self.request, "axes_locked_out", False):
                raise ValidationError(lockout_message(), code="locked_out") from None
            if directory_unreachable(self.request):
                raise ValidationError(
                    self.directory_error_messages["directory_unreachable"], code="directory_unreachable"
                ) from None
            raise error


class DirectoryAuthenticationForm(DirectoryErrorsMixin, AuthenticationForm):
    """The sign-in page's form: LoginView(authentication_form=DirectoryAuthenticationForm)."""


class DirectoryAdminAuthenticationForm(DirectoryErrorsMixin, AdminAuthenticationForm):
    """The admin site's sign-in form (set in apps.py)."""
