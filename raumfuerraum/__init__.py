"""raum]für[raum: on-premises room booking."""

# The one place the release number lives: pyproject reads it, X-RFR-Version shows it.
__version__ = "0.1.0"

from .celery import app as celery_app

__all__ = ["__version__", "celery_app"]
