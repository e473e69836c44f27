from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A person's data across the apps: export (Art. 15 GDPR) and erasure (Art. 17)."""

    name = "privacy"
    verbose_name = "Datenschutz"
