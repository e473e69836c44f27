"""`make demo`: the whole product on one machine, stopped cleanly by Ctrl-C.

Migrates, seeds the demo data, then supervises gunicorn (production configuration),
a Celery worker and Celery beat. On SIGINT or SIGTERM (or when one of them dies) it
stops them all, then the embedded database and Redis, and leaves no process behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from bookings.management.commands.seed_demo import ADMIN, DEMO
from ops import runtime


def public_url(host: str, port: int, environ=os.environ) -> str:
    """The demo's RFR_PUBLIC_URL: the one set in the environment, else where this demo listens.

    Secret links are shown once (display URLs, calendar feeds, mail links); built from a
    public URL on another port they could not be used.
    """
    if environ.get("RFR_PUBLIC_URL"):
        return environ["RFR_PUBLIC_URL"].rstrip("/")
    # A demo bound to every interface is still reached from this machine at 127.0.0.1.
    shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104 - a comparison, no bind
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


class Command(BaseCommand):
    help = "Run the app with demo data: gunicorn, Celery worker and beat on the embedded servers."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port: int, host: str, **options):
        stop_requested = []

        def request_stop(signum, _frame):
            stop_requested.append(signum)

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        children: list[subprocess.Popen] = []
        # Set before anything builds a link: seed_demo here, gunicorn and Celery (which
        # inherit the environment) below.
        os.environ["RFR_PUBLIC_URL"] = settings.RFR_PUBLIC_URL = public_url(host, port)
        try:
            call_command("migrate", interactive=False, verbosity=0)
            call_command("collectstatic", interactive=False, verbosity=0)
            call_command("seed_demo", stdout=self.stdout)
            data = runtime.data_dir()
            (data / "run").mkdir(parents=True, exist_ok=True)
            gunicorn_conf = str(settings.BASE_DIR / "deploy" / "gunicorn.conf.py")
            commands = [
                ["gunicorn", "raumfuerraum.wsgi", "-c", gunicorn_conf, "--bind", f"{host}:{port}"],
                [
                    "celery",
                    "-A",
                    "raumfuerraum",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    "2",
                    "--without-gossip",
                    "--without-mingle",
                ],
                [
                    "celery",
                    "-A",
                    "raumfuerraum",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    str(data / "run" / "celerybeat-schedule"),
                ],
            ]
            for command in commands:
                # Own sessions: the terminal's Ctrl-C comes to us, and we stop them in order.
                children.append(
                    subprocess.Popen(
                        [sys.executable, "-m", *command], cwd=settings.BASE_DIR, start_new_session=True
                    )
                )
            self.stdout.write(self.style.SUCCESS(f"\nraum]für[raum runs at http://{host}:{port}/"))
            self.stdout.write(f"  links it shows point at {settings.RFR_PUBLIC_URL}/ (RFR_PUBLIC_URL)")
            self.stdout.write(f"  {ADMIN[0]} / {ADMIN[1]}  (superuser, http://{host}:{port}/admin/)")
            self.stdout.write(f"  {DEMO[0]} / {DEMO[1]}  (staff)")
            self.stdout.write("Ctrl-C stops everything.\n")
            while not stop_requested:
                if any(child.poll() is not None for child in children):
                    self.stderr.write("A process of the demo exited; stopping the rest.")
                    break
                time.sleep(0.3)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 30
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            runtime.stop_services()
            self.stdout.write("Stopped.")
