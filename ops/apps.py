from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Installed for its management commands; it has no models, so no name in the admin."""

    name = "ops"
