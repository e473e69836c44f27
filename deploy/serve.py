"""Start gunicorn for the release this file belongs to; systemd runs it through `current`.

    /opt/raumfuerraum/current/.venv/bin/python /opt/raumfuerraum/current/deploy/serve.py \
        raumfuerraum.wsgi -c /opt/raumfuerraum/current/deploy/gunicorn.conf.py \
        --chdir /opt/raumfuerraum/current

Why not `gunicorn` or `python -m gunicorn`: on USR2 gunicorn re-executes the command line
it was started with. The `gunicorn` script names the old release's interpreter in its
first line, and `-m` leaves the resolved path of the old release's gunicorn in argv; a
script path and interpreter given through the `current` link resolve to the new release.
"""

import sys

from gunicorn.app.wsgiapp import run

if __name__ == "__main__":
    sys.exit(run())
