"""`migrate` that never makes traffic wait for long: short lock timeouts, retried.

An ALTER TABLE waiting for its lock blocks every query queued behind it, so a migration
that waits for a long transaction would stall all bookings. With `lock_timeout` it gives
up after a few seconds instead, and this command tries again a little later. Each
migration is its own transaction, so a retry resumes where the last attempt stopped.

    RFR_MIGRATION_LOCK_TIMEOUT       how long a statement waits for a lock (default 3s)
    RFR_MIGRATION_STATEMENT_TIMEOUT  how long one statement may run (default 10min; 0 = no limit)
    RFR_MIGRATION_RETRIES            attempts after a lock timeout (default 10)
"""

from __future__ import annotations

import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.signals import connection_created
from django.db.migrations.executor import MigrationExecutor

LOCK_NOT_AVAILABLE = "55P03"


def _is_lock_timeout(exc: BaseException) -> bool:
    while exc is not None:
        if getattr(exc, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            return True
        exc = exc.__cause__
    return False


class Command(BaseCommand):
    help = "Apply migrations with short lock and statement timeouts, retrying after lock timeouts."

    def add_arguments(self, parser):
        parser.add_argument("app_label", nargs="?")
        parser.add_argument("migration_name", nargs="?")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--lock-timeout", default=os.environ.get("RFR_MIGRATION_LOCK_TIMEOUT", "3s"))
        parser.add_argument(
            "--statement-timeout", default=os.environ.get("RFR_MIGRATION_STATEMENT_TIMEOUT", "10min")
        )
        parser.add_argument("--retries", type=int, default=int(os.environ.get("RFR_MIGRATION_RETRIES", "10")))

    def handle(
        self, *args, app_label, migration_name, database, lock_timeout, statement_timeout, retries, **options
    ):
        def limit(sender, connection, **kwargs):
            if connection.alias != database:
                return
            with connection.cursor() as cursor:
                # set_config, not SET: SET takes no bind parameters.
                cursor.execute("SELECT set_config('lock_timeout', %s, false)", [lock_timeout])
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [statement_timeout])

        connection = connections[database]
        connection.close()  # the next connection gets the limits
        connection_created.connect(limit, weak=False)
        migrate_args = [a for a in (app_label, migration_name) if a]
        delay = 1.0
        try:
            for attempt in range(1, retries + 2):
                try:
                    call_command(
                        "migrate",
                        *migrate_args,
                        database=database,
                        interactive=False,
                        verbosity=options["verbosity"],
                        stdout=self.stdout,
                    )
                    return
                except OperationalError as exc:
                    if not _is_lock_timeout(exc) or attempt > retries:
                        raise CommandError(f"migration failed: {exc}") from exc
                    self.stderr.write(
                        f"lock timeout ({lock_timeout}) on attempt {attempt}: {exc}".strip()
                        + f"; trying again in {delay:.0f}s"
                    )
                    connection.close()
                    self._drop_invalid_indexes(connection, migrate_args)
                    time.sleep(delay)
                    delay = min(delay * 2, 30)
        finally:
            connection_created.disconnect(limit)

    def _drop_invalid_indexes(self, connection, migrate_args: list[str]) -> None:
        """A CREATE INDEX CONCURRENTLY that timed out leaves an invalid index; remove it before the retry."""
        executor = MigrationExecutor(connection)
        targets = (
            [tuple(migrate_args)]
            if len(migrate_args) == 2
            else executor.loader.graph.leaf_nodes(*migrate_args[:1])
        )
        names = [
            operation.index.name
            for migration, _backwards in executor.migration_plan(targets)
            for operation in migration.operations
            if hasattr(operation, "index") and getattr(migration, "atomic", True) is False
        ]
        if not names:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
                [names],
            )
            for (name,) in cursor.fetchall():
                self.stderr.write(f"dropping the invalid index {name} left by the timed-out attempt")
                cursor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
