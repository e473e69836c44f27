"""Start, stop or inspect the embedded PostgreSQL and Redis of $RFR_DATA_DIR."""

from django.core.management.base import BaseCommand

from ops import runtime


class Command(BaseCommand):
    help = "Start, stop or show the embedded PostgreSQL and Redis (for RFR_DATA_DIR)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["start", "stop", "status"])

    def handle(self, *args, action, **options):
        if action == "start":
            runtime.ensure_services()
        elif action == "stop":
            runtime.stop_services()
        pg = runtime.postgres_running() if runtime.uses_embedded_postgres() else None
        redis = runtime.redis_running() if runtime.uses_embedded_redis() else None
        describe = {True: "running", False: "stopped", None: "external"}
        self.stdout.write(f"data dir:   {runtime.data_dir()}")
        self.stdout.write(f"postgresql: {describe[pg]}")
        self.stdout.write(f"redis:      {describe[redis]}")
