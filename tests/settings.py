"""Settings for the test suite: the production settings on their own data dir."""

import os
from pathlib import Path

# Tests keep their own embedded servers, apart from a running `make demo`.
os.environ.setdefault("RFR_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("RFR_STATIC_MANIFEST", "0")

from raumfuerraum.settings import *  # noqa: F403

# Hashing passwords at full strength would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The browser tests load our CSS and JS from the apps' static folders, no collectstatic.
WHITENOISE_USE_FINDERS = True
