"""The directory sync benchmark: 10,000 people in a real slapd, full and incremental runs.

    .venv/bin/python bench/directory_sync.py                 # 10,000 people
    .venv/bin/python bench/directory_sync.py --people 2000

Starts Debian's slapd on a free loopback port with a throwaway configuration that caps
plain searches at 1,000 entries (Active Directory's MaxPageSize), loads the people with
ldapadd from a generated LDIF, and times ``manage.py sync_directory`` on the embedded
PostgreSQL of var/bench-directory (never another data dir): a full run into an empty
database, a full run with nothing changed, incremental runs with nothing changed, with
changed people and group memberships, and with people removed. Prints one table; slapd
and the embedded servers are stopped at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import ldap  # noqa: E402

from tests.integrations import slapd as sl  # noqa: E402

DEPARTMENTS = 10
SUMMARY = re.compile(
    r"(?P<mode>full|incremental) sync: (?P<read>\d+) read, (?P<created>\d+) created, "
    r"(?P<updated>\d+) updated, (?P<reactivated>\d+) reactivated, (?P<unchanged>\d+) unchanged, "
    r"(?P<roles>\d+) roles changed, "
    r"(?P<deactivated>\d+) deactivated.*; (?P<seconds>[\d.]+) s"
)


def uid(i: int) -> str:
    return f"p{i:05d}"


def tree_ldif(people: int) -> str:
    """People in ten departments; Staff holds five departments (nested), a nested room-manager group."""
    entries = [sl.base_ldif(), sl.ou_ldif("people"), sl.ou_ldif("groups")]
    for i in range(people):
        entries.append(
            sl.person_ldif(
                "people",
                uid(i),
                "Vorname",
                f"Nachname{i:05d}",
                extra={
                    "departmentNumber": f"Abteilung {i % DEPARTMENTS}",
                    "telephoneNumber": f"+49 30 {i:05d}",
                },
            )
        )
    for d in range(DEPARTMENTS):
        members = [f"uid={uid(i)},ou=people,{sl.SUFFIX}" for i in range(d, people, DEPARTMENTS)]
        entries.append(sl.group_ldif("groups", f"Abteilung-{d}", members))
    group = "cn={},ou=groups," + sl.SUFFIX
    entries.append(sl.group_ldif("groups", "Staff", [group.format(f"Abteilung-{d}") for d in range(5)]))
    entries.append(
        sl.group_ldif(
            "groups", "Empfang", [f"uid={uid(i)},ou=people,{sl.SUFFIX}" for i in range(0, people, 200)]
        )
    )
    entries.append(sl.group_ldif("groups", "Raumverwalter", [group.format("Empfang")]))
    entries.append(
        sl.group_ldif("groups", "Facility", [f"uid={uid(i)},ou=people,{sl.SUFFIX}" for i in range(7)])
    )
    return "\n".join(entries)


class Bench:
    def __init__(self, people: int, data: Path):
        self.people = people
        self.data = data
        self.rows: list[tuple] = []
        self.server: sl.Slapd | None = None

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RFR_LDAP_", "DATABASE_URL", "REDIS_URL"))
        }
        group = "cn={},ou=groups," + sl.SUFFIX
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
                "RFR_DATA_DIR": str(self.data),
                "RFR_LOG_LEVEL": "WARNING",
                "RFR_LDAP_SERVER_URI": self.server.uri,
                "RFR_LDAP_SERVER_TYPE": "openldap",
                "RFR_LDAP_BIND_DN": sl.SERVICE_DN,
                "RFR_LDAP_BIND_PASSWORD": sl.SERVICE_PW,
                "RFR_LDAP_USER_SEARCH_BASE": f"ou=people,{sl.SUFFIX}",
                "RFR_LDAP_GROUP_SEARCH_BASE": f"ou=groups,{sl.SUFFIX}",
                "RFR_LDAP_GROUP_STAFF": group.format("Staff"),
                "RFR_LDAP_GROUP_ROOM_MANAGERS": group.format("Raumverwalter"),
                "RFR_LDAP_GROUP_FACILITY_ADMINS": group.format("Facility"),
                "RFR_LDAP_PAGE_SIZE": "500",
            }
        )
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True, text=True
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def sync(self, what: str, *args: str) -> None:
        started = time.monotonic()
        out = self.manage("sync_directory", *args)
        wall = time.monotonic() - started
        match = SUMMARY.search(out)
        if match is None:
            raise RuntimeError(f"no summary in:\n{out}")
        m = match.groupdict()
        self.rows.append(
            (
                what,
                m["mode"],
                int(m["read"]),
                int(m["created"]),
                int(m["updated"]) + int(m["reactivated"]),
                int(m["roles"]),
                int(m["deactivated"]),
                float(m["seconds"]),
                wall,
            )
        )
        print(f"  {what}: {m['seconds']} s", flush=True)

    def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="rfr-bench-slapd-") as folder:
            self.server = sl.Slapd(Path(folder), size_limit=1000).start()
            try:
                self._run()
            finally:
                self.server.stop()
                subprocess.run(
                    [sys.executable, "manage.py", "embedded", "stop"],
                    cwd=ROOT,
                    env=self.env(),
                    capture_output=True,
                )
                print("stopped slapd and the embedded servers of", self.data, flush=True)

    def _run(self) -> None:
        started = time.monotonic()
        self.server.ldapadd(tree_ldif(self.people))
        load = time.monotonic() - started
        print(f"ldapadd of {self.people} people: {load:.1f} s", flush=True)
        self.manage("migrate", "--verbosity", "0")
        # A clean start: the benchmark's own database, never a real one.
        self.manage(
            "shell",
            "-c",
            "from django.contrib.auth.models import User; "
            "from integrations.directory.models import SyncState; "
            "User.objects.filter(directory_account__isnull=False).delete(); SyncState.objects.all().delete()",
        )
        self.sync("full, empty database", "--full")
        self.sync("full, nothing changed", "--full")
        time.sleep(1.1)  # modifyTimestamp counts seconds: start the changes in a fresh one
        self.sync("incremental, nothing changed")
        changed = max(1, self.people // 100)
        conn = self.server.admin()
        try:
            for i in range(changed):
                dn = f"uid={uid(i * 7)},ou=people,{sl.SUFFIX}"
                conn.modify_s(dn, [(ldap.MOD_REPLACE, "telephoneNumber", [f"+49 89 {i:05d}".encode()])])
            conn.modify_s(
                f"cn=Facility,ou=groups,{sl.SUFFIX}",
                [
                    (
                        ldap.MOD_ADD,
                        "member",
                        [f"uid={uid(i)},ou=people,{sl.SUFFIX}".encode() for i in range(7, 57)],
                    )
                ],
            )
        finally:
            conn.unbind_s()
        self.sync(f"incremental, {changed} changed + 50 join a group")
        conn = self.server.admin()
        try:
            for i in range(changed):
                conn.delete_s(f"uid={uid(self.people - 1 - i * 3)},ou=people,{sl.SUFFIX}")
        finally:
            conn.unbind_s()
        self.sync(f"incremental, {changed} removed")
        self.print_table(load)

    def print_table(self, load: float) -> None:
        print()
        print(
            f"Directory sync: {self.people} people in slapd {self._slapd_version()}, page size 500, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}; ldapadd took {load:.1f} s"
        )
        print()
        header = (
            "run",
            "mode",
            "read",
            "created",
            "updated",
            "roles changed",
            "deactivated",
            "sync s",
            "wall s",
        )
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in self.rows:
            what, mode, *counts, seconds, wall = row
            cells = [what, mode, *(str(c) for c in counts), f"{seconds:.1f}", f"{wall:.1f}"]
            print("| " + " | ".join(cells) + " |")

    @staticmethod
    def _slapd_version() -> str:
        out = subprocess.run(["slapd", "-VV"], capture_output=True, text=True).stderr
        found = re.search(r"slapd (\d+\.\d+\.\d+)", out)
        return found.group(1) if found else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    args = parser.parse_args()
    if not sl.available():
        sys.exit("slapd and ldap-utils are needed: apt-get install slapd ldap-utils")
    Bench(args.people, ROOT / "var" / "bench-directory").run()


if __name__ == "__main__":
    main()
