#!/usr/bin/env python
"""Django's command-line utility, with the embedded services started when needed."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "raumfuerraum.settings")
    from ops import runtime

    # Without DATABASE_URL / REDIS_URL the app runs on its own PostgreSQL and Redis;
    # start them (idempotently) so every command works on a fresh machine.
    if runtime.needs_embedded_services(sys.argv[1:]):
        runtime.ensure_services()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
