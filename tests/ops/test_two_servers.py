"""Two app servers behind HAProxy behave as one, and losing one fails no request.

One PostgreSQL (embedded binaries, loopback TCP) and the suite's Redis are shared by two
app servers on this machine, each laid out as in production: gunicorn with
deploy/gunicorn.conf.py, its own Celery worker and its own beat. In front, Debian's
HAProxy runs deploy/haproxy/raumfuerraum.cfg itself, with only what a test machine must
change (ports, no TLS, paths; `haproxy_config`).

- What one process keeps must hold across servers: a session, a lock-out after failed
  sign-ins, the API's limit on failed tokens, and the room catalogue each process caches.
- Under CLIENTS clients reading rooms and day plans and booking with Idempotency-Keys, one
  server is stopped (TERM), started again, and then the other is killed (SIGKILL, its
  workers and Celery too). HAProxy sends the requests it could not get answered to the
  other server, so no client sees a failure, and every acknowledged booking is in the
  database exactly once.

RFR_TWO_SERVERS_CLIENTS and RFR_TWO_SERVERS_THINK change the load (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis

from tests.conftest import ROOT, free_port, wait_until_ready
from tests.ops.pgcluster import (
    Node,
    app_env,
    flush_test_redis,
    make_root,
    manage,
    remove_root,
    start_gunicorn,
)
from tests.ops.pgcluster import test_redis_url as shared_redis_url

pytestmark = [pytest.mark.slow, pytest.mark.embedded_only]

CLIENTS = int(os.environ.get("RFR_TWO_SERVERS_CLIENTS", "200"))
# Seconds between a client's requests: about 50 requests a second from 200 clients, what two
# cores shared with other test runs serve with room for losing one server.
THINK = tuple(float(s) for s in os.environ.get("RFR_TWO_SERVERS_THINK", "2.0,6.0").split(","))
ROOMS = 20
USERS = 40
HOST = "raum.example.com"  # the Host HAProxy's health check sends
BERLIN = ZoneInfo("Europe/Berlin")

SETUP = """
import json
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from bookings.models import Building, Floor, Room, Site
from bookings.services.tokens import issue_token

building = Building.objects.create(site=Site.objects.create(name="HQ"), name="A")
floor = Floor.objects.create(building=building, name="1")
rooms = [Room.objects.create(floor=floor, name=f"Room {i}", capacity=8).pk for i in range(ROOMS)]
tokens = [issue_token(user=User.objects.create_user(f"user{i}"), name="load")[1] for i in range(USERS)]
User.objects.create_user("alice", password="alice-pw-123")
browser = Client()
browser.force_login(User.objects.create_user("bob"))
session = browser.cookies[settings.SESSION_COOKIE_NAME].value
print(json.dumps({"rooms": rooms, "building": building.pk, "tokens": tokens, "session": session}))
"""


class AppServer:
    """gunicorn, a Celery worker and beat, each in a process group of its own."""

    def __init__(self, root: Path, name: str, database_url: str):
        self.name = name
        self.dir = root / name
        self.dir.mkdir()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = app_env(
            self.dir,
            database_url,
            RFR_ALLOWED_HOSTS=f"{HOST},127.0.0.1,localhost",
            RFR_LOGIN_FAILURE_LIMIT="3",
            RFR_API_AUTH_FAILURES_PER_MINUTE="4",
            RFR_OUTBOX_SWEEP_SECONDS="10",
            RFR_LOG_LEVEL="ERROR",
        )
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        log = self.dir / "gunicorn.log"
        # As deploy/gunicorn.conf.py sizes it for two cores: 3 workers x 8 threads.
        self.gunicorn = start_gunicorn(self.env, self.port, log, workers=3, threads=8)
        celery = (sys.executable, "-m", "celery", "-A", "raumfuerraum")
        quiet = ("--loglevel", "WARNING")
        self.processes = [
            self.gunicorn,
            self._spawn(
                "worker", *celery, "worker", "--pool", "solo", *quiet, "--without-gossip", "--without-mingle"
            ),
            self._spawn("beat", *celery, "beat", *quiet, "--schedule", str(self.dir / "beat-schedule")),
        ]
        wait_until_ready(f"{self.base}/readyz", self.gunicorn, timeout=90)

    def _spawn(self, name: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=(self.dir / f"{name}.log").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def signal(self, sig: int) -> None:
        """``sig`` to every process group of this server (gunicorn's master and workers too)."""
        for process in self.processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)

    def wait_stopped(self, timeout: float = 60) -> None:
        for process in self.processes:
            process.wait(timeout=timeout)

    def stop(self) -> None:
        self.signal(signal.SIGTERM)
        try:
            self.wait_stopped(40)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)

    def logs(self) -> str:
        return "".join(
            f"\n{self.name}/{p.name}:\n" + p.read_text(errors="replace")[-2500:]
            for p in sorted(self.dir.glob("*.log"))
        )


def haproxy_config(root: Path, port: int, servers: list[AppServer]) -> str:
    """deploy/haproxy/raumfuerraum.cfg with a test machine's ports and paths, and no TLS."""
    text = (ROOT / "deploy" / "haproxy" / "raumfuerraum.cfg").read_text()
    errors = ROOT / "deploy" / "haproxy" / "errors"
    lines = [f"    server {s.name} 127.0.0.1:{s.port}" for s in servers]
    replacements = [
        (r"\n    log /dev/log local0", ""),
        # systemd gives HAProxy the file descriptors for 20,000 connections; a test has fewer.
        (r"maxconn 20000", "maxconn 4000"),
        (r"stats socket \S+", f"stats socket {root / 'haproxy.sock'}"),
        (r"bind :80\n", f"bind 127.0.0.1:{port}\n"),
        (r"\n    bind :443 [^\n]*", ""),
        (r"\n    http-request redirect scheme https[^\n]*", ""),
        (r"\n    server app1 [^\n]*\n    # server app2 [^\n]*", "\n" + "\n".join(lines)),
        (r"bind 127.0.0.1:8404", f"bind 127.0.0.1:{free_port()}"),
    ]
    text = text.replace("/etc/haproxy/errors/raumfuerraum", str(errors))
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, lambda _m, r=replacement: r, text)
        assert count == 1, f"deploy/haproxy/raumfuerraum.cfg no longer has {pattern!r}"
    return text


class HAProxy:
    def __init__(self, root: Path, servers: list[AppServer]):
        self.root = root
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config = root / "haproxy.cfg"
        self.config.write_text(haproxy_config(root, self.port, servers))
        self.process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(self.config)],
            stdout=(root / "haproxy.log").open("w"),
            stderr=subprocess.STDOUT,
        )

    def states(self) -> dict[str, str]:
        """Each app server's state as HAProxy sees it (UP, DOWN, ...), from its admin socket."""
        assert self.process.poll() is None, (self.root / "haproxy.log").read_text()
        raw = b""
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.connect(str(self.root / "haproxy.sock"))
            except OSError:  # still starting
                return {}
            sock.sendall(b"show stat\n")
            while chunk := sock.recv(65536):
                raw += chunk
        rows = [line.split(",") for line in raw.decode().splitlines() if line.startswith("app,")]
        return {row[1]: row[17] for row in rows if row[1] not in ("BACKEND", "FRONTEND")}

    def wait_for(self, name: str, state: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not self.states().get(name, "").startswith(state):
            assert time.monotonic() < deadline, f"{name} not {state} in HAProxy: {self.states()}"
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)


@dataclass
class Site:
    servers: list[AppServer]
    proxy: HAProxy
    scene: dict
    db: Node

    def logs(self) -> str:
        return (
            "".join(s.logs() for s in self.servers)
            + "\nhaproxy:\n"
            + (self.proxy.root / "haproxy.log").read_text(errors="replace")[-3000:]
        )


@pytest.fixture(scope="module")
def site():
    if not Path("/usr/sbin/haproxy").exists():
        pytest.fail(
            "HAProxy is not installed: tests/ensure_system_packages.sh installs it (apt-get install haproxy)"
        )
    root = make_root("rfr-two-servers-")
    db = Node(root, "db")
    servers: list[AppServer] = []
    proxy = None
    try:
        db.initdb(max_connections="200")
        db.start()
        db.query("CREATE DATABASE rfr", dbname="postgres")
        servers = [AppServer(root, "app1", db.url()), AppServer(root, "app2", db.url())]
        manage(servers[0].env, "migrate", "-v0")
        setup = f"ROOMS, USERS = {ROOMS}, {USERS}\n{SETUP}"
        scene = json.loads(
            manage(servers[0].env, "shell", "--no-imports", "-c", setup).stdout.strip().splitlines()[-1]
        )
        for server in servers:
            server.start()
        proxy = HAProxy(root, servers)
        for server in servers:
            proxy.wait_for(server.name, "UP")
        yield Site(servers, proxy, scene, db)
    finally:
        if proxy:
            proxy.stop()
        for server in servers:
            server.stop()
        db.cleanup()
        flush_test_redis()
        remove_root(root)


# --- what each process keeps, across the two ---------------------------------------------


def test_a_session_from_one_server_works_on_the_other(site):
    cookie = {"Cookie": f"sessionid={site.scene['session']}"}
    for server in site.servers:
        page = httpx.get(f"{server.base}/", headers=cookie)
        assert page.status_code == 200, (server.name, page.status_code, page.headers.get("Location"))


def _sign_in(base: str, password: str) -> httpx.Response:
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        return browser.post(
            "/accounts/login/",
            data={"username": "alice", "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"},
        )


def test_failed_sign_ins_on_both_servers_lock_the_name_out_on_both(site):
    one, two = site.servers
    assert _sign_in(one.base, "wrong").status_code == 200
    assert _sign_in(two.base, "wrong").status_code == 200
    assert _sign_in(one.base, "wrong").status_code == 429  # the third, counted across both

    # The right password is refused on either server now.
    assert _sign_in(two.base, "alice-pw-123").status_code == 429
    assert _sign_in(one.base, "alice-pw-123").status_code == 429


def test_failed_tokens_on_both_servers_count_against_one_limit(site):
    if datetime.now().second > 50:  # the limit counts per minute: not across its turn
        time.sleep(61 - datetime.now().second)
    one, two = site.servers
    bad = {"Authorization": "Bearer not-a-token"}
    try:
        statuses = [
            httpx.get(f"{s.base}/api/v1/rooms", headers=bad).status_code for s in (one, two, one, two)
        ]
        assert statuses == [401, 401, 401, 401]
        assert httpx.get(f"{one.base}/api/v1/rooms", headers=bad).status_code == 429
        assert httpx.get(f"{two.base}/api/v1/rooms", headers=bad).status_code == 429
    finally:
        # The count is per address: the load below comes from this machine too.
        shared = redis.Redis.from_url(shared_redis_url())
        for key in shared.scan_iter(match="rfr:api:authfail:*"):
            shared.delete(key)


def test_a_room_renamed_anywhere_shows_on_both_servers_at_once(site):
    token = {"Authorization": f"Bearer {site.scene['tokens'][0]}"}
    room = site.scene["rooms"][0]

    def names() -> set[str]:
        # Several times each: the answer must not depend on which worker process answers.
        return {
            next(
                r["name"]
                for r in httpx.get(f"{s.base}/api/v1/rooms", headers=token).json()
                if r["id"] == room
            )
            for s in site.servers
            for _ in range(6)
        }

    assert names() == {"Room 0"}
    # Written past both servers, straight into the database, as another server would.
    site.db.query("UPDATE bookings_room SET name = 'Spree' WHERE id = %s", [room])
    assert names() == {"Spree"}
    site.db.query("UPDATE bookings_room SET name = 'Room 0' WHERE id = %s", [room])


# --- losing a server under load ------------------------------------------------------------


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)  # Idempotency-Key -> booking id
    servers: Counter = field(default_factory=Counter)
    slowest: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.statuses.values())


class Load:
    """CLIENTS clients through HAProxy, each a keep-alive connection; nothing retried here."""

    EXPECTED = {"rooms": {200}, "day plan": {200}, "book": {201, 409}}

    def __init__(self, base: str, scene: dict):
        self.base, self.scene = base, scene
        self.tally = Tally()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the clients did not stop"

    def wait_for_requests(self, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while self.tally.total < count:
            assert time.monotonic() < deadline, f"only {self.tally.total} requests answered"
            time.sleep(0.2)

    async def _main(self) -> None:
        await asyncio.gather(*(self._client(n) for n in range(CLIENTS)))

    async def _client(self, n: int) -> None:
        rng = random.Random(n)
        token = self.scene["tokens"][n % USERS]
        async with httpx.AsyncClient(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token}"},
            # The client's own limit: longer than any answer takes here (see the assertion on
            # the slowest), so that a failure means a failure.
            timeout=60,
            # Give up an idle connection well before HAProxy does (timeout http-keep-alive 15s).
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=3),
        ) as http:
            await asyncio.sleep(rng.uniform(0, THINK[1]))
            while not self.stop.is_set():
                kind, call = self._next(rng, http, n)
                started = time.monotonic()
                try:
                    response = await call
                except httpx.HTTPError as exc:
                    self.tally.failures.append(f"{kind}: {exc.__class__.__name__}: {exc}")
                    continue
                self._record(kind, response, time.monotonic() - started)
                await asyncio.sleep(rng.uniform(*THINK))

    def _next(self, rng: random.Random, http: httpx.AsyncClient, n: int):
        roll = rng.random()
        day = date.today() + timedelta(days=rng.randint(2, 60))
        if roll < 0.45:
            return "rooms", http.get("/api/v1/rooms")
        if roll < 0.75:
            return "day plan", http.get(
                "/api/v1/availability", params={"date": day.isoformat(), "building": self.scene["building"]}
            )
        start = datetime.combine(day, datetime.min.time(), BERLIN) + timedelta(
            minutes=30 * rng.randint(14, 38)
        )
        key = f"c{n}-{uuid.uuid4().hex[:12]}"
        payload = {
            "room": rng.choice(self.scene["rooms"]),
            "title": key,
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        }
        return "book", http.post("/api/v1/bookings", json=payload, headers={"Idempotency-Key": key})

    def _record(self, kind: str, response: httpx.Response, seconds: float) -> None:
        tally = self.tally
        tally.statuses[kind, response.status_code] += 1
        tally.slowest = max(tally.slowest, seconds)
        if response.status_code not in self.EXPECTED[kind]:
            tally.failures.append(f"{kind}: HTTP {response.status_code} {response.text[:200]}")
        elif kind == "book" and response.status_code == 201:
            key = response.request.headers["Idempotency-Key"]
            tally.acknowledged[key] = response.json()["id"]


def test_it_fails_no_request_when_one_server_stops_or_dies_under_load(site):
    one, two = site.servers
    proxy = site.proxy
    with Load(proxy.base, site.scene) as load:
        load.wait_for_requests(2 * CLIENTS)

        # An orderly stop (systemctl stop): gunicorn finishes what it has, HAProxy sends the
        # rest to the other server; then it comes back.
        stopped_at = load.tally.total
        one.signal(signal.SIGTERM)
        one.wait_stopped()
        proxy.wait_for(one.name, "DOWN")
        load.wait_for_requests(load.tally.total + CLIENTS)
        one.start()
        proxy.wait_for(one.name, "UP")
        load.wait_for_requests(load.tally.total + CLIENTS)

        # A crash: the other server's gunicorn, workers, Celery and beat killed at once,
        # with requests in flight.
        killed_at = load.tally.total
        two.signal(signal.SIGKILL)
        two.wait_stopped()
        proxy.wait_for(two.name, "DOWN")
        load.wait_for_requests(load.tally.total + 2 * CLIENTS)
    tally = load.tally
    by_kind = ", ".join(f"{kind} {status}: {n}" for (kind, status), n in sorted(tally.statuses.items()))
    report = (
        f"\n{CLIENTS} clients, {tally.total} requests ({stopped_at} before the stop, "
        f"{killed_at} before the kill), {len(tally.failures)} failed, slowest {tally.slowest:.2f}s; "
        f"{by_kind}\nfailures: {Counter(f[:90] for f in tally.failures).most_common(10)}"
    )
    print(report)
    logs = report + (site.logs() if tally.failures else "")

    assert tally.failures == [], logs
    rows = site.db.query("SELECT id, title FROM bookings_booking WHERE title LIKE 'c%%-%%'")
    titles = Counter(title for _id, title in rows)
    by_title = {title: pk for pk, title in rows}
    # Every acknowledged booking is there once, with the id its client was given...
    lost = [key for key, pk in tally.acknowledged.items() if by_title.get(key) != pk]
    assert lost == [], f"{len(lost)} acknowledged bookings missing: {lost[:10]}"
    assert [t for t, n in titles.items() if n > 1] == []
    # ...and none was stored that no client was told about (a 201 lost on the way).
    assert set(titles) == set(tally.acknowledged), set(titles) - set(tally.acknowledged)
    assert tally.statuses["book", 201] > 0 and tally.statuses["rooms", 200] > 0
