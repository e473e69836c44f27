from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Utilisation figures computed in PostgreSQL; it has no models yet."""

    name = "reports"
