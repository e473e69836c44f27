"""Refuse migrations that the previous release's code cannot run against (expand/contract).

During an upgrade the new release's migrations run while the old release still serves
(deploy/upgrade.py), and a rollback runs the old code on the migrated schema. So a
release's migrations may only *expand*: add nullable columns or columns with a
db_default, add tables, build indexes concurrently. Dropping or renaming what the old
code uses (*contract*) waits for the release after the one that stopped using it.

    manage.py check_migrations                 # migrations newer than the last release (CI, make lint)
    manage.py check_migrations --pending       # migrations not yet applied (deploy/upgrade.py)
    manage.py check_migrations --path DIR      # the migration files in DIR
    manage.py check_migrations --write-baseline   # at a release: all current ones count as released

A migration that was reviewed and is safe all the same says so, with the reason:

    class Migration(migrations.Migration):
        backward_compatible = "RunSQL only adds a trigger the old code never sees"
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, migrations
from django.db.migrations.loader import MigrationLoader
from django.db.models.fields import NOT_PROVIDED

BASELINE = Path(settings.BASE_DIR) / "deploy" / "released-migrations.txt"

CONTRACT = {
    migrations.RemoveField: "drops a column the previous release still reads and writes",
    migrations.DeleteModel: "drops a table the previous release still uses",
    migrations.RenameField: "renames a column under the previous release's feet",
    migrations.RenameModel: "renames a table under the previous release's feet",
    migrations.AlterModelTable: "renames a table under the previous release's feet",
}
CONTRACT_FIX = "stop using it in this release and drop it in the next one (contract phase)"
INDEX_FIX = "use AddIndexConcurrently in a migration with atomic = False"


@dataclass
class Finding:
    migration: str
    operation: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.migration}: {self.operation} {self.problem}; {self.fix}."


@dataclass
class Checker:
    """Checks operations; tables created by the migrations under check are new and safe to shape."""

    new_models: set[tuple[str, str]] = field(default_factory=set)

    def note_new_models(self, app_label: str, migration) -> None:
        for operation in _database_operations(migration.operations):
            if isinstance(operation, migrations.CreateModel):
                self.new_models.add((app_label, operation.name_lower))

    def check(self, app_label: str, migration, state=None) -> list[Finding]:
        label = f"{app_label}.{migration.name}"
        if getattr(migration, "backward_compatible", ""):
            return []
        findings = []
        for operation in _database_operations(migration.operations):
            # A table that the previous release never knew is free to shape.
            model = getattr(operation, "model_name_lower", None) or getattr(operation, "name_lower", None)
            if model and (app_label, model) in self.new_models:
                continue
            for problem, fix in self._problems(app_label, operation, state):
                findings.append(Finding(label, operation.describe(), problem, fix))
        return findings

    def _problems(self, app_label: str, operation, state):
        if type(operation) in CONTRACT:
            yield CONTRACT[type(operation)], CONTRACT_FIX
        elif isinstance(operation, migrations.AddField):
            new = operation.field
            if not new.many_to_many and not new.null and new.db_default is NOT_PROVIDED:
                yield (
                    "adds a NOT NULL column without db_default: the previous release inserts rows without it",
                    "make it null=True or give it a db_default",
                )
            if not new.many_to_many and (new.unique or new.db_index):
                yield (
                    "builds an index while it locks the table for writes",
                    f"set db_index=False and {INDEX_FIX}",
                )
        elif isinstance(operation, migrations.AlterField):
            yield from self._alter_field(app_label, operation, state)
        elif isinstance(operation, migrations.AddIndex) and not isinstance(operation, AddIndexConcurrently):
            yield "builds an index while it locks the table for writes", INDEX_FIX
        elif isinstance(operation, migrations.AddConstraint):
            yield (
                "checks every row while it locks the table for writes",
                "add it NOT VALID and validate it in a later migration (RunSQL, reviewed)",
            )
        elif isinstance(operation, (migrations.AlterUniqueTogether, migrations.AlterIndexTogether)):
            yield "builds an index while it locks the table for writes", INDEX_FIX
        elif isinstance(operation, (migrations.RunSQL, migrations.RunPython)):
            yield (
                "runs code this check cannot judge",
                "review it and say why it is safe in `backward_compatible = '...'` on the Migration",
            )

    def _alter_field(self, app_label: str, operation, state):
        new = operation.field
        old = None
        if state is not None:
            try:
                old = state.models[app_label, operation.model_name_lower].fields[operation.name]
            except KeyError:
                old = None
        if old is None:
            # Nothing to compare with (--path): only a column that may be NULL is harmless.
            if not new.null:
                yield (
                    "may make a column NOT NULL or change its type",
                    "make the change in a reviewed migration with backward_compatible = '...'",
                )
            return
        if old.null and not new.null and new.db_default is NOT_PROVIDED:
            yield (
                "makes a column NOT NULL: the previous release may still write NULL, "
                "and the check scans the table under an exclusive lock",
                "keep it nullable now; in the next release add a NOT VALID check, validate it, then alter",
            )
        connection = connections[DEFAULT_DB_ALIAS]
        if old.db_type(connection) != new.db_type(connection):
            yield (
                f"changes the column type ({old.db_type(connection)} -> {new.db_type(connection)}), "
                "rewriting the table under an exclusive lock",
                "add a new column, fill it, switch the code, drop the old one later",
            )
        if old.column != new.column:
            yield "renames a column under the previous release's feet", CONTRACT_FIX
        if (new.unique and not old.unique) or (new.db_index and not old.db_index):
            yield "builds an index while it locks the table for writes", f"set db_index=False and {INDEX_FIX}"


def _database_operations(operations):
    for operation in operations:
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            yield from _database_operations(operation.database_operations)
        else:
            yield operation


def _project_apps() -> set[str]:
    base = Path(settings.BASE_DIR).resolve()
    from django.apps import apps

    # Ours: inside the checkout, not in the virtualenv that may live there too.
    return {
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base)
        and "site-packages" not in Path(config.path).resolve().relative_to(base).parts
    }


def read_baseline(path: Path) -> set[tuple[str, str]]:
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].split() for line in path.read_text().splitlines())
    return {(parts[0], parts[1]) for parts in lines if len(parts) == 2}


def _load_folder(folder: Path) -> list[tuple[str, migrations.Migration]]:
    """The Migration classes of the files in `folder`, app label = the folder's parent's name."""
    app_label = folder.resolve().parent.name
    found = []
    for path in sorted(folder.glob("[0-9]*.py")):
        spec = importlib.util.spec_from_file_location(f"_rfr_check_{app_label}_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(spec.name, None)
        found.append((app_label, module.Migration(path.stem, app_label)))
    return found


class Command(BaseCommand):
    help = "Fail on migrations that the previous release's code cannot run against (expand/contract)."

    def add_arguments(self, parser):
        parser.add_argument("--pending", action="store_true", help="check migrations not applied yet")
        parser.add_argument("--path", type=Path, action="append", help="check the migration files here")
        parser.add_argument("--baseline", type=Path, default=BASELINE, help="released migrations (a file)")
        parser.add_argument("--write-baseline", action="store_true", help="mark all current ones released")

    def handle(
        self, *args, pending: bool, path: list[Path] | None, baseline: Path, write_baseline: bool, **options
    ):
        if write_baseline:
            return self._write_baseline(baseline)
        checker = Checker()
        if path:
            selected = [
                (label, migration, None) for folder in path for label, migration in _load_folder(folder)
            ]
        else:
            selected = self._from_project(baseline, pending)
        for label, migration, _node in selected:
            checker.note_new_models(label, migration)
        findings = []
        for label, migration, node in selected:
            state = self._loader.project_state(node, at_end=False) if node else None
            findings += checker.check(label, migration, state)
        if findings:
            raise CommandError(
                "Migrations the previous release cannot run against (see docs/operations.md):\n  "
                + "\n  ".join(str(f) for f in findings)
            )
        names = ", ".join(f"{label}.{m.name}" for label, m, _node in selected) or "none"
        self.stdout.write(f"Backward compatible: {len(selected)} migrations checked ({names}).")

    def _from_project(self, baseline: Path, pending: bool):
        apps = _project_apps()
        connection = connections[DEFAULT_DB_ALIAS] if pending else None
        self._loader = MigrationLoader(connection, ignore_no_migrations=True)
        done = set(self._loader.applied_migrations) if pending else read_baseline(baseline)
        if not pending and not baseline.exists():
            raise CommandError(f"{baseline} is missing; create it at a release with --write-baseline")
        return [
            (key[0], self._loader.disk_migrations[key], key)
            for key in sorted(self._loader.graph.nodes)
            if key[0] in apps and key not in done and key in self._loader.disk_migrations
        ]

    def _write_baseline(self, baseline: Path) -> None:
        apps = _project_apps()
        loader = MigrationLoader(None, ignore_no_migrations=True)
        keys = sorted(key for key in loader.disk_migrations if key[0] in apps)
        baseline.write_text(
            "# Migrations already released: check_migrations checks only newer ones.\n"
            "# Written by `manage.py check_migrations --write-baseline` when a release is made.\n"
            + "".join(f"{app} {name}\n" for app, name in keys)
        )
        self.stdout.write(f"{baseline}: {len(keys)} migrations marked released.")
