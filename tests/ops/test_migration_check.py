"""The CI gate for expand/contract migrations (`manage.py check_migrations`, run by `make lint`).

Each test writes migration files into a folder of its own, as a developer would, and
feeds them to the command: what the previous release cannot run against must fail the
check with the reason named, what it can must pass.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.conftest import ROOT

HEADER = """\
import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bookings", "0003_booking_active_span")]
"""


def write_migration(tmp_path: Path, body: str, name: str = "0004_change") -> Path:
    folder = tmp_path / "bookings" / "migrations"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(HEADER + textwrap.indent(textwrap.dedent(body), "    "))
    return folder


def check(folder: Path) -> str:
    call_command("check_migrations", "--path", str(folder))
    return "ok"


@pytest.mark.parametrize(
    ("operations", "reason"),
    [
        ('operations = [migrations.RemoveField("booking", "title")]', "drops a column"),
        ('operations = [migrations.RenameField("booking", "title", "subject")]', "renames a column"),
        ('operations = [migrations.DeleteModel("Series")]', "drops a table"),
        ('operations = [migrations.RenameModel("Series", "Recurrence")]', "renames a table"),
        (
            'operations = [migrations.AddField("booking", "cost_centre", models.CharField(max_length=20))]',
            "NOT NULL column without db_default",
        ),
        (
            'operations = [migrations.AddField("booking", "ref", models.CharField(max_length=20, null=True,'
            " db_index=True))]",
            "builds an index",
        ),
        (
            'operations = [migrations.AlterField("booking", "title", models.CharField(max_length=300))]',
            "NOT NULL or change its type",
        ),
        (
            'operations = [migrations.AddIndex("booking", models.Index(fields=["created_at"], name="b_c"))]',
            "builds an index while it locks the table",
        ),
        ('operations = [migrations.RunSQL("UPDATE bookings_booking SET private = false")]', "cannot judge"),
        ("operations = [migrations.RunPython(migrations.RunPython.noop)]", "cannot judge"),
        (
            "operations = [migrations.SeparateDatabaseAndState(database_operations=["
            'migrations.RemoveField("booking", "title")])]',
            "drops a column",
        ),
    ],
)
def test_it_refuses_a_migration_the_previous_release_cannot_run_against(tmp_path, operations, reason):
    folder = write_migration(tmp_path, operations)

    with pytest.raises(CommandError) as failure:
        check(folder)

    assert reason in str(failure.value)
    assert "bookings.0004_change" in str(failure.value)


@pytest.mark.parametrize(
    "operations",
    [
        'operations = [migrations.AddField("booking", "note", models.CharField(max_length=40, null=True))]',
        'operations = [migrations.AddField("booking", "seats", models.IntegerField(db_default=0))]',
        """\
        atomic = False
        operations = [
            AddIndexConcurrently("booking", models.Index(fields=["created_at"], name="b_created")),
        ]
        """,
        # A new table may be shaped at will: the previous release never saw it.
        """\
        operations = [
            migrations.CreateModel("Catering", [("id", models.BigAutoField(primary_key=True)),
                                                ("menu", models.CharField(max_length=40))]),
            migrations.AddIndex("catering", models.Index(fields=["menu"], name="catering_menu")),
            migrations.AddField("catering", "price", models.IntegerField()),
        ]
        """,
        # Reviewed, with the reason on record.
        """\
        backward_compatible = "fills a new nullable column; the old code never reads it"
        operations = [migrations.RunSQL("UPDATE bookings_booking SET title = title")]
        """,
    ],
)
def test_it_passes_an_expand_only_migration(tmp_path, operations):
    assert check(write_migration(tmp_path, operations)) == "ok"


def test_it_judges_each_file_of_a_folder(tmp_path):
    write_migration(
        tmp_path, 'operations = [migrations.AddField("booking", "a", models.TextField(null=True))]'
    )
    folder = write_migration(tmp_path, 'operations = [migrations.RemoveField("booking", "a")]', "0005_drop")

    with pytest.raises(CommandError) as failure:
        check(folder)

    assert "bookings.0005_drop" in str(failure.value)
    assert "0004_change" not in str(failure.value)


def test_it_passes_the_projects_own_migrations_since_the_last_release():
    # What `make lint` runs: the migrations newer than deploy/released-migrations.txt.
    call_command("check_migrations")


def test_it_checks_the_migrations_newer_than_the_baseline(tmp_path):
    # As if 0003 were not released yet: it is checked, and its concurrent index passes.
    baseline = tmp_path / "released.txt"
    call_command("check_migrations", "--write-baseline", "--baseline", str(baseline))
    lines = baseline.read_text().splitlines()
    baseline.write_text("\n".join(line for line in lines if "0003_booking_active_span" not in line))
    out = StringIO()

    call_command("check_migrations", "--baseline", str(baseline), stdout=out)

    assert "1 migrations checked (bookings.0003_booking_active_span)" in out.getvalue()


def test_it_fails_make_lint_with_a_nonzero_exit(tmp_path):
    folder = write_migration(tmp_path, 'operations = [migrations.RemoveField("booking", "title")]')

    result = subprocess.run(
        [sys.executable, "manage.py", "check_migrations", "--path", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "drops a column the previous release still reads and writes" in result.stderr
