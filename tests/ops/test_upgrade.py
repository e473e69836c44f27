"""Upgrades under load: 200+ clients keep booking, and not one request fails.

Release A is this tree, installed under a root of its own the way deploy/upgrade.py
expects (releases/<name>, `current` -> the running one), on its own embedded PostgreSQL
and Redis, served by gunicorn with the production configuration (deploy/serve.py,
deploy/gunicorn.conf.py) and a Celery worker kept running like systemd's Restart=always.
While several hundred keep-alive clients read rooms and day plans, book with
Idempotency-Keys, replay some of those keys and cancel, deploy/upgrade.py installs:

- release B: a copy of the tree with a real schema migration (a nullable column and one
  with a db_default, used by B's models) and another version. Every request succeeds,
  X-RFR-Version switches from A to B, every acknowledged booking is in the database
  exactly once, and the outbox is delivered by the restarted worker;
- a release whose web entry point names a database that does not exist (its /readyz
  answers 503): the upgrade rolls back by itself, no client ever meets that release,
  and again no request fails.

RFR_UPGRADE_METHOD=hup runs the same tests with the HUP swap, RFR_UPGRADE_CLIENTS and
RFR_UPGRADE_THINK change the load: that is how the figures in docs/operations.md were
measured.

What "no request fails" means here: every answer has the expected status, and no
connection breaks. One limit depends on the machine, and it is stated, not hidden: a
client waits CLIENT_TIMEOUT seconds for an answer. The clients are closed-loop (each
waits for its answer before its next request), so at most CLIENTS requests wait at once
and the slowest answer is bounded by about CLIENTS x CPU per request / the CPU the app
gets. A machine that cannot give the app enough CPU while both releases start (see
"Headroom" in docs/operations.md, chapter 1) ends in time-outs, reported as such apart
from every other failure; those have no such excuse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from tests.conftest import ROOT, free_port, wait_until_ready

pytestmark = [pytest.mark.slow, pytest.mark.embedded_only]

PYTHON = sys.executable
CLIENTS = int(os.environ.get("RFR_UPGRADE_CLIENTS", "220"))
# Seconds a client waits for an answer before it counts the request as failed.
CLIENT_TIMEOUT = 60
# Seconds a client waits between two requests: the load stays within what two shared
# cores serve, so latency stays far below the client timeout and a failure means a failure.
THINK = tuple(float(s) for s in os.environ.get("RFR_UPGRADE_THINK", "0.5,1.5").split(","))
METHOD = os.environ.get("RFR_UPGRADE_METHOD", "usr2")
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "var", ".git", "__pycache__", "*.pyc", "*.egg-info", "node_modules", ".*_cache", "screenshots"
)
BERLIN = ZoneInfo("Europe/Berlin")


# --- the deployment ------------------------------------------------------------------


class Deployment:
    """One app server laid out as in production, on 127.0.0.1 and its own data dir."""

    def __init__(self, root: Path):
        self.root = root
        self.current = root / "current"
        self.run = root / "run"
        self.logs = root / "log"
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.pidfile = self.run / "gunicorn.pid"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "PYTHONPATH"}
            and not k.startswith("PYTEST")
        }
        self.env.update(
            {
                "RFR_DATA_DIR": str(root / "data"),
                "RFR_WEB_BIND": f"127.0.0.1:{self.port}",
                "RFR_WEB_PIDFILE": str(self.pidfile),
                "RFR_WEB_LOG_LEVEL": "info",
                # How long a new release's worker may take to find its /readyz 200 before
                # the release counts as broken and is rolled back. It must not depend on
                # spare CPU: with the old release serving 220 clients beside migrate and
                # the new master's start, a good release's first /readyz can take seconds
                # (8 s here before, which a loaded machine could turn into a rollback of
                # a good release). The broken release below waits this long to roll back.
                "RFR_UPGRADE_READY_TIMEOUT": "30",
                # Clients and servers share two busy cores here, and a process starting
                # (migrate, a new master) stalls both for seconds. The server keeps idle
                # connections well past the clients' own idle limit (3 s) plus such a
                # stall, so that it never closes one a client is just reusing. (In
                # production HAProxy talks to gunicorn without keep-alive.)
                "RFR_WEB_KEEPALIVE": "20",
                # Only the API is used here; collecting a manifest would just cost time.
                "RFR_STATIC_MANIFEST": "0",
                # Conflicts (409) are logged as warnings; the log is kept for gunicorn's lines.
                "RFR_LOG_LEVEL": "ERROR",
            }
        )
        self.gunicorn: subprocess.Popen | None = None
        self.worker_starts = 0
        self._worker: subprocess.Popen | None = None
        self._stop_worker = threading.Event()
        self._supervisor: threading.Thread | None = None

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=self.current, env=self.env, capture_output=True, text=True
        )
        assert result.returncode == 0, f"manage.py {args}: {result.stderr[-3000:]}"
        return result.stdout

    def install_first_release(self) -> None:
        for folder in (self.run, self.logs, self.root / "releases"):
            folder.mkdir(parents=True)
        shutil.copytree(ROOT, self.root / "releases" / "a", ignore=COPY_IGNORE)
        self.current.symlink_to("releases/a")
        self.manage("migrate_safely", "--verbosity", "0")
        self.manage("seed_demo")
        self.token = self.manage("issue_token", "demo").strip().splitlines()[-1]

    def start(self) -> None:
        """gunicorn as the systemd unit starts it: through `current`, production config."""
        self.gunicorn = subprocess.Popen(
            [
                PYTHON,
                str(self.current / "deploy" / "serve.py"),
                "raumfuerraum.wsgi",
                "-c",
                str(self.current / "deploy" / "gunicorn.conf.py"),
                "--chdir",
                str(self.current),
            ],
            cwd=self.current,
            env=self.env,
            stdout=(self.logs / "gunicorn.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until_ready(f"{self.base}/readyz", self.gunicorn, timeout=60)
        self._supervisor = threading.Thread(target=self._supervise_worker, daemon=True)
        self._supervisor.start()

    def _supervise_worker(self) -> None:
        """Keep one Celery worker running from `current`, as systemd's Restart=always does."""
        while not self._stop_worker.is_set():
            self.worker_starts += 1
            self._worker = subprocess.Popen(
                [
                    *(PYTHON, "-m", "celery", "-A", "raumfuerraum", "worker", "--pool", "solo"),
                    *("--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"),
                    *("--pidfile", str(self.run / "worker.pid")),
                ],
                cwd=self.current,
                env=self.env,
                stdout=(self.logs / "worker.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
            self._worker.wait()
            self._stop_worker.wait(0.5)

    def masters(self) -> list[int]:
        pids = []
        for path in (self.pidfile, Path(f"{self.pidfile}.2")):
            with contextlib.suppress(OSError, ValueError):
                pids.append(int(path.read_text().strip()))
        return pids

    def upgrade(self, source: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                *(PYTHON, str(source / "deploy" / "upgrade.py"), str(source)),
                *("--root", str(self.root), "--python", PYTHON, "--method", METHOD),
                *("--pidfile", str(self.pidfile), "--url", self.base, "--ready-timeout", "45"),
                *("--restart", f"kill -TERM $(cat {self.run / 'worker.pid'})"),
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def release_version(self) -> str:
        text = (self.current / "raumfuerraum" / "__init__.py").read_text()
        return re.search(r'__version__ = "([^"]+)"', text).group(1)

    def new_release(self, suffix: str) -> Path:
        """A copy of the running release with a migration of its own and a version of its own."""
        source = self.root / "incoming" / suffix
        shutil.copytree(self.current.resolve(), source, ignore=COPY_IGNORE)
        init = source / "raumfuerraum" / "__init__.py"
        version = self.release_version()
        init.write_text(init.read_text().replace(f'"{version}"', f'"{version.split("+")[0]}+{suffix}"'))
        migrations = source / "bookings" / "migrations"
        latest = sorted(migrations.glob("[0-9][0-9][0-9][0-9]_*.py"))[-1].stem
        number = int(latest[:4]) + 1
        column = f"upgrade_{suffix}"
        (migrations / f"{number:04d}_{column}.py").write_text(
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [('bookings', '{latest}')]\n\n"
            "    operations = [\n"
            f"        migrations.AddField('booking', '{column}_note', "
            "models.CharField(max_length=40, null=True, blank=True)),\n"
            f"        migrations.AddField('booking', '{column}_count', models.IntegerField(db_default=0)),\n"
            "    ]\n"
        )
        # The release's models use the new columns: had its migration not run, every
        # booking query of this release would fail.
        with (source / "bookings" / "models.py").open("a") as models:
            models.write(
                f"\n\nBooking.add_to_class('{column}_note', "
                "models.CharField(max_length=40, null=True, blank=True))\n"
                f"Booking.add_to_class('{column}_count', models.IntegerField(db_default=0))\n"
            )
        return source

    def database(self) -> psycopg.Connection:
        run = Path(self.env["RFR_DATA_DIR"]) / "run"
        return psycopg.connect(host=str(run), user="postgres", dbname="rfr", autocommit=True)

    def stop(self) -> None:
        self._stop_worker.set()
        for pid in self.masters():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        if self._worker and self._worker.poll() is None:
            self._worker.terminate()
        if self._supervisor:
            self._supervisor.join(timeout=40)
        if self.gunicorn:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.gunicorn.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.gunicorn.wait(timeout=40)
        deadline = time.monotonic() + 40
        while any(_alive(pid) for pid in self.masters()) and time.monotonic() < deadline:
            time.sleep(0.2)
        subprocess.run(
            [PYTHON, "manage.py", "embedded", "stop"],
            cwd=self.current,
            env=self.env,
            capture_output=True,
            check=False,
        )


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def deployment():
    # Not under pytest's tmp folder: pytest resets that to 0700 when another run starts,
    # and the database server's own user must be able to reach its data.
    root = Path(tempfile.mkdtemp(prefix="rfr-upgrade-"))
    root.chmod(0o755)
    deployment = Deployment(root)
    try:
        deployment.install_first_release()
        deployment.start()
        yield deployment
    finally:
        deployment.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- the clients ---------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw; only counted, never retried."""

    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    timeouts: list[str] = field(default_factory=list)
    # (monotonic start of the request, version that answered)
    versions: list[tuple[float, str]] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)  # booking id -> Idempotency-Key
    cancelled: set[int] = field(default_factory=set)
    replays: int = 0
    slowest: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    def assert_no_failure(self, report: str) -> None:
        """Nothing failed; time-outs are named as what they are: too little CPU for the load."""
        assert self.failures == [], report
        assert self.timeouts == [], (
            f"{len(self.timeouts)} requests got no answer within the clients' {CLIENT_TIMEOUT}s "
            f"(slowest answered: {self.slowest:.1f}s): the machine gave the app too little CPU for "
            f"{CLIENTS} clients during the upgrade (docs/operations.md, chapter 1, headroom). "
            f"First: {self.timeouts[:5]}{report}"
        )


class Load:
    """CLIENTS keep-alive clients in one event loop on a thread of their own."""

    EXPECTED = {"rooms": {200}, "day plan": {200}, "book": {201, 409}, "replay": {201}, "cancel": {200}}

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.tally = Tally()
        self.stop = threading.Event()
        rooms = httpx.get(
            f"{deployment.base}/api/v1/rooms", headers={"Authorization": f"Bearer {deployment.token}"}
        ).json()
        self.rooms = [room["id"] for room in rooms if room["bookable"]]
        self.buildings = sorted({room["building"]["id"] for room in rooms})
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        # A log line per request would cost the clients more than the requests.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the clients did not stop"

    def wait_for_requests(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.tally.total < count:
            # Not a failed request: the machine answers too few to go on (seen at load
            # average 14-18 on two cores: 20 answers in 60 s before the upgrade began).
            assert time.monotonic() < deadline, (
                f"only {self.tally.total} of {count} requests answered in {timeout:.0f}s, "
                f"{len(self.tally.failures)} failed: no headroom for {CLIENTS} clients here"
            )
            time.sleep(0.2)

    async def _main(self) -> None:
        await asyncio.gather(*(self._client(n) for n in range(CLIENTS)))

    async def _client(self, n: int) -> None:
        rng = random.Random(n)
        mine: list[tuple[int, str, dict]] = []
        async with httpx.AsyncClient(
            base_url=self.deployment.base,
            headers={"Authorization": f"Bearer {self.deployment.token}"},
            timeout=CLIENT_TIMEOUT,
            # Like every well-behaved client: give up an idle connection before the server
            # does (gunicorn: keepalive 5 s), so that the two never close it at once.
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=3.0),
        ) as http:
            await asyncio.sleep(rng.uniform(0, THINK[1]))  # not all at once
            while not self.stop.is_set():
                kind, call = self._next(rng, http, mine)
                started = time.monotonic()
                try:
                    response = await call
                except httpx.TimeoutException as exc:
                    # No answer in CLIENT_TIMEOUT: the machine's limit, told apart from the rest.
                    self.tally.timeouts.append(
                        f"{_now()} {kind}: {exc.__class__.__name__} after {CLIENT_TIMEOUT}s"
                    )
                    continue
                except httpx.HTTPError as exc:
                    self.tally.failures.append(f"{_now()} {kind}: {exc.__class__.__name__}: {exc}")
                    continue
                self._record(kind, started, response, mine)
                await asyncio.sleep(rng.uniform(*THINK))

    def _next(self, rng: random.Random, http: httpx.AsyncClient, mine: list):
        roll = rng.random()
        if roll < 0.40:
            return "rooms", http.get("/api/v1/rooms")
        day = date.today() + timedelta(days=rng.randint(10, 70))
        if roll < 0.65:
            return "day plan", http.get(
                "/api/v1/availability",
                params={"date": day.isoformat(), "building": rng.choice(self.buildings)},
            )
        if mine and roll < 0.72:
            booking_id, key, payload = rng.choice(mine)
            return "replay", http.post("/api/v1/bookings", json=payload, headers={"Idempotency-Key": key})
        if mine and roll < 0.80:
            booking_id, _key, _payload = mine.pop(rng.randrange(len(mine)))
            self.tally.cancelled.add(booking_id)
            return "cancel", http.delete(f"/api/v1/bookings/{booking_id}")
        start = datetime.combine(day, datetime.min.time(), BERLIN) + timedelta(
            minutes=30 * rng.randint(14, 38)
        )
        payload = {
            "room": rng.choice(self.rooms),
            "title": "Lasttest",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        }
        key = uuid.uuid4().hex
        return "book", http.post("/api/v1/bookings", json=payload, headers={"Idempotency-Key": key})

    def _record(self, kind: str, started: float, response: httpx.Response, mine: list) -> None:
        tally = self.tally
        tally.statuses[kind, response.status_code] += 1
        tally.slowest = max(tally.slowest, time.monotonic() - started)
        tally.versions.append((started, response.headers.get("X-RFR-Version", "?")))
        if response.status_code not in self.EXPECTED[kind]:
            tally.failures.append(f"{_now()} {kind}: HTTP {response.status_code} {response.text[:200]}")
            return
        if kind == "book" and response.status_code == 201:
            request = response.request
            booking_id = response.json()["id"]
            tally.acknowledged[booking_id] = request.headers["Idempotency-Key"]
            mine.append((booking_id, request.headers["Idempotency-Key"], _payload(request)))
        elif kind == "replay":
            tally.replays += 1
            if response.json()["id"] not in tally.acknowledged:
                tally.failures.append(f"replay answered a new booking {response.json()['id']}")


def _now() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


def _payload(request: httpx.Request) -> dict:
    import json

    return json.loads(request.content)


# --- the tests -----------------------------------------------------------------------


def _summary(load: Load, result: subprocess.CompletedProcess, seconds: float) -> str:
    tally = load.tally
    logs = "".join(
        f"\n{path.name}:\n" + "\n".join(path.read_text(errors="replace").splitlines()[-60:])
        for path in sorted(load.deployment.logs.glob("*.log"))
    )
    by_kind = ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(tally.statuses.items()))
    return (
        f"\n[{METHOD}] {CLIENTS} clients, {tally.total} requests, {len(tally.failures)} failed, "
        f"{len(tally.timeouts)} timed out, "
        f"upgrade {seconds:.1f}s, slowest {tally.slowest:.2f}s; {by_kind}\n"
        f"failures: {tally.failures[:10]}\nupgrade stderr:\n{result.stderr[-4000:]}"
        + (logs if tally.failures or tally.timeouts or result.returncode else "")
    )


def test_it_upgrades_under_load_with_a_migration_and_no_failed_request(deployment):
    old_version = deployment.release_version()
    release = deployment.new_release("b")
    new_version = old_version.split("+")[0] + "+b"
    worker_starts = deployment.worker_starts

    with Load(deployment) as load:
        load.wait_for_requests(3 * CLIENTS)
        started = time.monotonic()
        result = deployment.upgrade(release)
        upgraded = time.monotonic()
        # Keep booking on the new release for a while.
        load.wait_for_requests(load.tally.total + 2 * CLIENTS)
    report = _summary(load, result, upgraded - started)
    print(report)

    assert result.returncode == 0, report
    load.tally.assert_no_failure(report)
    assert load.tally.total >= 5 * CLIENTS
    # The version switched: A before the upgrade, only B once it returned.
    versions = load.tally.versions
    assert {v for t, v in versions if t < started} == {old_version}, report
    assert {v for t, v in versions if t > upgraded} == {new_version}, report
    assert httpx.get(f"{deployment.base}/readyz").headers["X-RFR-Version"] == new_version
    assert deployment.current.resolve().name == new_version
    assert (deployment.root / "previous").resolve().name != new_version
    assert len([pid for pid in deployment.masters() if _alive(pid)]) == 1

    with deployment.database() as db:
        # B's migration ran, with its default for the rows A wrote.
        assert (
            db.execute("SELECT count(*) FROM bookings_booking WHERE upgrade_b_count <> 0").fetchone()[0] == 0
        )
        _assert_every_acknowledged_booking_once(db, load.tally)
        # The worker was restarted from B and delivered everything, also what A queued.
        _assert_outbox_delivered(db, worker_log=deployment.logs / "worker.log")
    assert deployment.worker_starts > worker_starts


def test_it_rolls_back_by_itself_when_the_new_release_is_not_ready(deployment):
    old_version = deployment.release_version()
    old_release = deployment.current.resolve()
    release = deployment.new_release("broken")
    broken_version = old_version.split("+")[0] + "+broken"
    # A deliberately broken setting: the web entry point names a database that does not
    # exist (migrations, run by manage.py, still work), so its /readyz answers 503.
    wsgi = release / "raumfuerraum" / "wsgi.py"
    wsgi.write_text(
        wsgi.read_text().replace(
            "from django.core.wsgi",
            "from ops import runtime\n\n"
            'os.environ["DATABASE_URL"] = f"postgresql://postgres@/no_such_db?host={runtime.socket_dir()}"\n'
            "from django.core.wsgi",
        )
    )

    with Load(deployment) as load:
        load.wait_for_requests(3 * CLIENTS)
        started = time.monotonic()
        result = deployment.upgrade(release)
        upgraded = time.monotonic()
        load.wait_for_requests(load.tally.total + 2 * CLIENTS)
    report = _summary(load, result, upgraded - started)
    print(report)

    assert result.returncode == 1, report
    assert "rolled back" in result.stderr, report
    load.tally.assert_no_failure(report)
    # No client ever met the broken release; the old one serves on.
    assert broken_version not in {v for _t, v in load.tally.versions}, report
    assert {v for _t, v in load.tally.versions} == {old_version}, report
    assert deployment.current.resolve() == old_release
    assert httpx.get(f"{deployment.base}/readyz").headers["X-RFR-Version"] == old_version
    assert len([pid for pid in deployment.masters() if _alive(pid)]) == 1
    with deployment.database() as db:
        _assert_every_acknowledged_booking_once(db, load.tally)


def _assert_every_acknowledged_booking_once(db: psycopg.Connection, tally: Tally) -> None:
    ids = list(tally.acknowledged)
    rows = dict(db.execute("SELECT id, status FROM bookings_booking WHERE id = ANY(%s)", [ids]).fetchall())
    assert set(rows) == set(ids), f"{len(set(ids) - set(rows))} acknowledged bookings are missing"
    cancelled = {i for i, status in rows.items() if status == "cancelled"}
    assert cancelled == tally.cancelled & set(ids)
    # None doubled: each key booked once, and no API booking exists that nobody was told about.
    keys = list(tally.acknowledged.values())
    assert len(set(keys)) == len(keys)
    (api_bookings,) = db.execute(
        "SELECT count(*) FROM bookings_booking WHERE source = 'api' AND id >= %s", [min(ids)]
    ).fetchone()
    assert api_bookings == len(ids)


def _assert_outbox_delivered(db: psycopg.Connection, worker_log: Path, stall: float = 60) -> None:
    """Every message gets delivered: fails when the backlog stops shrinking for ``stall`` s.

    The claim is "nothing is lost", not a speed: on a loaded two-core machine the one
    solo worker may still be working off the load's backlog, which is fine while it shrinks.
    """
    started = time.monotonic()
    first = best = None
    progress_at = started
    while True:
        (waiting,) = db.execute(
            "SELECT count(*) FROM bookings_outboxmessage WHERE delivered_at IS NULL AND given_up_at IS NULL"
        ).fetchone()
        first = waiting if first is None else first
        if waiting == 0:
            break
        now = time.monotonic()
        if best is None or waiting < best:
            best, progress_at = waiting, now
        if now - progress_at >= stall:
            stuck = db.execute(
                "SELECT channel, count(*), max(attempts), max(last_error) FROM bookings_outboxmessage"
                " WHERE delivered_at IS NULL AND given_up_at IS NULL GROUP BY channel"
            ).fetchall()
            tail = worker_log.read_text(errors="replace")[-3000:] if worker_log.exists() else "(no log)"
            raise AssertionError(
                f"{waiting} outbox messages undelivered, none delivered for {stall:.0f}s "
                f"({first - waiting} in {now - started:.0f}s before): {stuck}\nworker log:\n{tail}"
            )
        time.sleep(1)
    print(f"outbox: {first} messages waiting after the load, delivered in {time.monotonic() - started:.1f}s")
    (given_up,) = db.execute(
        "SELECT count(*) FROM bookings_outboxmessage WHERE given_up_at IS NOT NULL"
    ).fetchone()
    assert given_up == 0
