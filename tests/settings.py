"""Settings for the test suite: the production settings on their own data dir."""

import os
from pathlib import Path

# Tests keep their own embedded servers, apart from a running `make demo`.
os.environ.setdefault("RFR_DATA_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
os.environ.setdefault("RFR_STATIC_MANIFEST", "0")

from raumfuerraum.settings import *  # noqa: F403
from raumfuerraum.settings import BASE_DIR

# Hashing passwords at full strength would dominate the suite's run time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = BASE_DIR / "var" / "test" / "media"
