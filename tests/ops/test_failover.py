"""The primary dies under load; the synchronous standby takes over; nothing acknowledged is lost.

A primary and a synchronous standby (pg_basebackup -R, streaming over loopback TCP,
synchronous_standby_names naming the standby, so a commit returns only once the standby
has it). The app runs under gunicorn (deploy/gunicorn.conf.py) on a DATABASE_URL listing
both hosts with target_session_attrs=read-write. 50 clients book through the API, each
booking with an Idempotency-Key, and retry a 503 or a broken connection with the same key.
Mid-load the primary's postmaster gets SIGKILL, then the standby is promoted (what
Patroni does). Every booking that got a 201 must be on the new primary, none twice, and
the app must answer again within 10 s of the promotion, with the same gunicorn processes.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import psutil
import pytest

from tests.conftest import free_port, wait_until_ready
from tests.ops.pgcluster import (
    Node,
    app_env,
    flush_test_redis,
    make_root,
    manage,
    remove_root,
    start_gunicorn,
    stop_process,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.embedded_only]

CLIENTS = 50
ROOMS = 10
# A client retries one booking for at most this long (503s, refused connections).
RETRY_SECONDS = 60
RECOVERY_LIMIT_SECONDS = 10

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
tokens = [issue_token(user=User.objects.create_user(f"user{i}"), name="load")[1] for i in range(CLIENTS)]
browser = Client()
browser.force_login(User.objects.create_user("alice"))
session = browser.cookies[settings.SESSION_COOKIE_NAME].value
print(json.dumps({"rooms": rooms, "tokens": tokens, "session": session}))
"""


@pytest.fixture
def cluster():
    root = make_root("rfr-failover-")
    primary, standby = Node(root, "rfr_a"), Node(root, "rfr_b")
    try:
        primary.initdb(synchronous_commit="on")
        primary.start()
        standby.basebackup_from(primary)
        standby.start()
        # Only now name the standby synchronous: from here a commit waits for it. (Set on
        # the primary alone, so the promoted standby does not wait for a standby it lacks.)
        primary.query("ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (rfr_b)'", dbname="postgres")
        primary.query("SELECT pg_reload_conf()", dbname="postgres")
        wait_for(
            lambda: primary.query(
                "SELECT sync_state = 'sync' FROM pg_stat_replication WHERE application_name = 'rfr_b'",
                dbname="postgres",
            ),
            30,
            "the standby to be synchronous",
        )
        primary.query("CREATE DATABASE rfr", dbname="postgres")
        yield root, primary, standby
    finally:
        primary.cleanup()
        standby.cleanup()
        remove_root(root)


class Load:
    """CLIENTS clients booking as fast as they can, each retrying with its Idempotency-Key."""

    def __init__(self, base: str, tokens: list[str], rooms: list[int]):
        self.base, self.tokens, self.rooms = base, tokens, rooms
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked: dict[str, tuple[int, float]] = {}  # key -> (booking id, when acknowledged)
        self.statuses: Counter = Counter()
        self.unexpected: list[tuple] = []
        self.bad_503: list[str] = []
        self.gave_up: list[str] = []
        self.replayed = 0
        self.day0 = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(CLIENTS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=RETRY_SECONDS + 30)
        assert not any(t.is_alive() for t in self.threads), "a client hangs"

    def body(self, i: int, j: int) -> dict:
        # Client i owns one hour in one room; its j-th booking is on day j: never a conflict.
        start = self.day0 + timedelta(days=j, hours=7 + i // ROOMS)
        return {
            "room": self.rooms[i % ROOMS],
            "title": f"c{i}-b{j}",
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
        }

    def client(self, i: int) -> None:
        headers = {"Authorization": f"Bearer {self.tokens[i]}", "Accept-Language": "en"}
        with httpx.Client(base_url=self.base, timeout=30, headers=headers) as http:
            j = 0
            while not self.stop.is_set():
                self.book(http, i, j)
                j += 1

    def book(self, http: httpx.Client, i: int, j: int) -> None:
        key, body = f"c{i}-b{j}", self.body(i, j)
        deadline = time.monotonic() + RETRY_SECONDS
        while time.monotonic() < deadline:
            try:
                response = http.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:
                self.count(type(exc).__name__)
                time.sleep(0.2 + random.random() * 0.2)
                continue
            self.count(response.status_code)
            if response.status_code == 201:
                with self.lock:
                    self.acked[key] = (response.json()["id"], time.monotonic())
                    self.replayed += response.headers.get("Idempotent-Replayed") == "true"
                return
            if response.status_code == 503:
                if not (response.json().get("detail") and response.headers.get("Retry-After")):
                    self.bad_503.append(response.text)
                time.sleep(0.2 + random.random() * 0.2)
                continue
            with self.lock:
                self.unexpected.append((key, response.status_code, response.text[:300]))
            return
        with self.lock:
            self.gave_up.append(key)

    def count(self, what) -> None:
        with self.lock:
            self.statuses[what] += 1

    def acked_since(self, moment: float) -> set[str]:
        with self.lock:
            return {key.split("-")[0] for key, (_id, when) in self.acked.items() if when > moment}


def test_it_keeps_every_acknowledged_booking_when_the_primary_dies_under_load(cluster, tmp_path):
    root, primary, standby = cluster
    url = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/rfr"
        "?target_session_attrs=read-write"
    )
    env = app_env(root / "app", url, RFR_DB_CONNECT_TIMEOUT="2")
    manage(env, "migrate", "-v0")
    setup = manage(
        env, "shell", "--no-imports", "-c", f"ROOMS, CLIENTS = {ROOMS}, {CLIENTS}\n{SETUP}"
    ).stdout.strip()
    scene = json.loads(setup.splitlines()[-1])
    port = free_port()
    server = start_gunicorn(env, port, tmp_path / "gunicorn.log", workers=2, threads=8)
    base = f"http://127.0.0.1:{port}"
    load = Load(base, scene["tokens"], scene["rooms"])
    probe = httpx.Client(base_url=base, timeout=30)
    try:
        wait_until_ready(f"{base}/readyz", server, timeout=60)
        gunicorn_processes = {p.pid for p in psutil.Process(server.pid).children()} | {server.pid}
        load.start()
        wait_for(lambda: len(load.acked) >= 150, 120, "150 bookings before the crash")

        killed_at = time.monotonic()
        primary.kill9()
        # What users see while no primary exists (Patroni needs its TTL to notice):
        time.sleep(0.5)
        page = probe.get("/", headers={"Cookie": f"sessionid={scene['session']}"})
        api_read = probe.get("/api/v1/rooms", headers={"Authorization": f"Bearer {scene['tokens'][0]}"})
        time.sleep(0.5)
        standby.promote()
        promoted_at = time.monotonic()

        def serves() -> bool:
            response = probe.get("/api/v1/rooms", headers={"Authorization": f"Bearer {scene['tokens'][0]}"})
            return response.status_code == 200

        wait_for(serves, 60, "the app to answer from the promoted standby", interval=0.05)
        ready_at = time.monotonic()
        # Carry on until every client has booked on the new primary.
        wait_for(lambda: len(load.acked_since(ready_at)) == CLIENTS, 90, "every client to book again")
        time.sleep(1)
        load.join()
        still_running = {p.pid for p in psutil.Process(server.pid).children()} | {server.pid}
    finally:
        load.stop.set()
        probe.close()
        stop_process(server)
        flush_test_redis()

    rows = standby.query("SELECT id, title FROM bookings_booking")
    titles = Counter(title for _id, title in rows)
    by_title = {title: pk for pk, title in rows}
    figures = {
        "acknowledged": len(load.acked),
        "statuses": {str(k): v for k, v in load.statuses.items()},
        "replayed": load.replayed,
        "outage_s": round(ready_at - killed_at, 2),
        "after_promotion_s": round(ready_at - promoted_at, 2),
    }
    print("failover:", json.dumps(figures))
    (tmp_path / "figures.json").write_text(json.dumps(figures))

    # Every acknowledged booking is on the new primary, with the id the client was given.
    lost = [key for key, (pk, _when) in load.acked.items() if by_title.get(key) != pk]
    assert not lost, f"{len(lost)} acknowledged bookings missing on the new primary: {lost[:10]}"
    # None twice, and nothing stored that nobody was told about (every key was retried to a 201).
    assert [t for t, n in titles.items() if n > 1] == []
    assert set(titles) == set(load.acked)
    # Failures were clean: 503 with a reason and Retry-After, or a dropped connection; never a 500.
    assert load.unexpected == [] and load.bad_503 == [] and load.gave_up == []
    assert load.statuses[503] + sum(v for k, v in load.statuses.items() if isinstance(k, str)) > 0
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert "Die Datenbank ist gerade nicht erreichbar" in page.text and page.headers["Retry-After"]
    assert api_read.status_code == 503 and api_read.json()["detail"]
    log = (tmp_path / "gunicorn.log").read_text()
    assert "Internal Server Error" not in log and "Traceback" not in log
    # Back within the limit, without a restart: the same gunicorn master and workers.
    assert ready_at - promoted_at < RECOVERY_LIMIT_SECONDS, figures
    assert still_running == gunicorn_processes
    assert standby.query("SELECT pg_is_in_recovery()", dbname="postgres") == [(False,)]
