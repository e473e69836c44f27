"""The Exchange sync benchmark: 200 rooms against the Graph or the EWS double, both directions.

    .venv/bin/python bench/exchange_sync.py                  # 200 rooms, Graph
    .venv/bin/python bench/exchange_sync.py --rooms 50 --per-room 5
    .venv/bin/python bench/exchange_sync.py --backend ews    # the EWS double and exchangelib

Runs on the embedded PostgreSQL of var/bench-exchange (never another data dir), with
the Graph double of the tests (HTTPS, its own CA) in this process and the real msal and
requests, or with ``--backend ews`` the EWS double (SOAP over HTTPS) and the real
exchangelib. Measures:

- **lag**: bookings committed here (``--per-room`` per room, spread over the rooms),
  delivered by two outbox worker threads that poll for due messages every 50 ms (as a
  Celery worker kicked on commit would); the lag of each is from its commit to the
  moment the double made its event (p50, p99, max);
- **inbound**: ``--per-room`` Outlook meetings per room written to the double, then one
  sync cycle over every room; changes applied per second;
- **idle**: one more cycle with nothing changed: its cost over all rooms;
- **baseline**: one trivial request per room to the same double through the same client
  (the room's calendar read for an empty minute: a Graph calendarView GET, an EWS FindItem
  with a CalendarView), timed before, between and after the scenarios. Each scenario is
  also given as a multiple of the mean baseline request of the passes on either side of
  it, which is steadier than the absolute figures on a shared machine.

Prints one table; the embedded servers are stopped at the end, whatever happened.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument(
        "--per-room", type=int, default=10, help="bookings here and meetings in Outlook per room"
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-exchange")
    parser.add_argument(
        "--backend", choices=("graph", "ews"), default="graph", help="which double and client"
    )
    return parser.parse_args(argv)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    data = args.data_dir.resolve()
    data.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "RFR_DEBUG")}
    env.update(
        {
            "RFR_DATA_DIR": str(data),
            "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
            "RFR_LOG_LEVEL": "ERROR",
            "RFR_EXCHANGE_BACKEND": "off",
        }
    )
    os.environ.clear()
    os.environ.update(env)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
    )
    if migrate.returncode:
        raise SystemExit(migrate.stderr.decode())
    try:
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        subprocess.run(
            [sys.executable, "manage.py", "embedded", "stop"], cwd=ROOT, env=env, capture_output=True
        )
        print("stopped the embedded servers of", data, flush=True)


def run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from bookings import outbox, services
    from bookings.models import Booking, Building, Floor, OutboxMessage, Room, Site
    from integrations.exchange.adapter import calendar
    from integrations.exchange.conf import from_env
    from integrations.exchange.models import Declined, EventLink, RoomSync
    from integrations.exchange.sync import sync_room
    from tests.integrations.ews_double import PASSWORD, USERNAME, EwsDouble
    from tests.integrations.graph_double import CLIENT_ID, SECRET, TENANT, GraphDouble
    from tests.integrations.test_ca import make_ca

    folder = Path(tempfile.mkdtemp(prefix="rfr-bench-exchange-"))
    ca, cert, key = make_ca(folder)
    double = (EwsDouble if args.backend == "ews" else GraphDouble)(str(cert), str(key))
    double.start()
    (folder / "secret").write_text(SECRET)
    (folder / "password").write_text(PASSWORD)
    if args.backend == "ews":
        settings.RFR_EXCHANGE = from_env(
            {
                "RFR_EXCHANGE_BACKEND": "ews",
                "RFR_EWS_URL": double.url,
                "RFR_EWS_USERNAME": USERNAME,
                "RFR_EWS_PASSWORD_FILE": str(folder / "password"),
                "RFR_EWS_AUTH": "basic",
                "RFR_EXCHANGE_CA_FILE": str(ca),
            }
        )
    else:
        settings.RFR_EXCHANGE = from_env(
            {
                "RFR_EXCHANGE_BACKEND": "graph",
                "RFR_GRAPH_TENANT_ID": TENANT,
                "RFR_GRAPH_CLIENT_ID": CLIENT_ID,
                "RFR_GRAPH_CLIENT_SECRET_FILE": str(folder / "secret"),
                "RFR_GRAPH_LOGIN_URL": double.base,
                "RFR_GRAPH_API_URL": f"{double.base}/v1.0",
                "RFR_EXCHANGE_CA_FILE": str(ca),
            }
        )
    settings.RFR_OUTBOX_CHANNELS = {"exchange": "integrations.exchange.sinks.exchange_sink"}

    # A clean slate each run: the bench's own rows only, in its own data dir.
    EventLink.objects.all().delete()
    Declined.objects.all().delete()
    RoomSync.objects.all().delete()
    OutboxMessage.objects.all().delete()
    Booking.objects.all().update(status="cancelled")
    site, _ = Site.objects.get_or_create(name="Bench Exchange")
    building, _ = Building.objects.get_or_create(site=site, name="Haus X")
    floor, _ = Floor.objects.get_or_create(building=building, name="EG", defaults={"level": 0})
    rooms = []
    for i in range(args.rooms):
        room, _ = Room.objects.update_or_create(
            floor=floor,
            name=f"X{i:03d}",
            defaults={"capacity": 8, "exchange_mailbox": f"x{i:03d}@bench.example"},
        )
        double.add_mailbox(room.exchange_mailbox)
        rooms.append(room)
    organizer, _ = User.objects.get_or_create(
        username="bench-exchange", defaults={"email": "bench@example.com"}
    )
    cal = calendar()
    day0 = timezone.now().replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=2)
    empty = day0 - timedelta(days=1)  # no bench event is there: the answer is an empty list

    def baseline() -> list[float]:
        """One request per room reading an empty minute of its calendar; seconds each."""
        took = []
        for room in rooms:
            began = time.perf_counter()
            found = cal.meetings(room.exchange_mailbox, start=empty, end=empty + timedelta(minutes=1))
            took.append(time.perf_counter() - began)
            assert not found, found
        return took

    cal.meetings(rooms[0].exchange_mailbox, start=empty, end=empty + timedelta(minutes=1))  # sign-in
    bases = [baseline()]  # before out, before in, before idle, after idle

    # --- outbound: commit -> event at the double ---
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            for pk in outbox.due_ids():
                outbox.deliver(pk)
            time.sleep(0.05)
        connection.close()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for w in workers:
        w.start()
    committed: dict[int, float] = {}
    started = time.monotonic()
    for n in range(args.per_room):
        for room in rooms:
            start = day0 + timedelta(hours=n)
            booking = services.create_booking(
                room=room,
                organizer=organizer,
                title=f"Bench {n}",
                start=start,
                end=start + timedelta(minutes=30),
            )
            committed[booking.pk] = time.time()
    while OutboxMessage.objects.filter(delivered_at__isnull=True, given_up_at__isnull=True).exists():
        time.sleep(0.1)
    out_seconds = time.monotonic() - started
    stop.set()
    for w in workers:
        w.join()
    bases.append(baseline())
    lags = [
        double.created_at[link.remote_id] - committed[link.booking_id]
        for link in EventLink.objects.filter(booking_id__in=committed)
    ]
    # Our own events read back in the first cycle are echoes: read them once before timing inbound.
    for room in rooms:
        sync_room(cal, room)

    # --- inbound: Outlook meetings -> bookings ---
    for room in rooms:
        for n in range(args.per_room):
            start = day0 + timedelta(hours=n, minutes=30)
            double.book(room.exchange_mailbox, f"Outlook {n}", start, start + timedelta(minutes=30))
    started = time.monotonic()
    if os.environ.get("RFR_BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    booked = sum(sync_room(cal, room).applied.get("booked", 0) for room in rooms)
    in_seconds = time.monotonic() - started
    if os.environ.get("RFR_BENCH_PROFILE"):
        profile.disable()
        profile.dump_stats(os.environ["RFR_BENCH_PROFILE"])

    bases.append(baseline())

    # --- idle ---
    requests_before = len(double.requests)
    started = time.monotonic()
    for room in rooms:
        sync_room(cal, room)
    idle_seconds = time.monotonic() - started
    idle_requests = len(double.requests) - requests_before
    bases.append(baseline())
    double.stop()
    means = [sum(b) / len(b) for b in bases]
    units = {  # seconds of one baseline request around each scenario
        "out": (means[0] + means[1]) / 2,
        "in": (means[1] + means[2]) / 2,
        "idle": (means[2] + means[3]) / 2,
    }

    def times(seconds: float, scenario: str) -> str:
        return f"{seconds / units[scenario]:.1f}"

    print(f"\n{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| measure | value | × baseline |")
    print("|---|---|---|")
    print(f"| back end | {args.backend} | |")
    print(f"| rooms | {args.rooms} | |")
    print(
        "| baseline: one request per room (an empty minute of its calendar), mean before out / "
        f"before in / before idle / after | {' / '.join(f'{m * 1000:.1f}' for m in means)} ms | 1.0 |"
    )
    print(
        f"| bookings committed here, delivered | {len(committed)}, {len(lags)} in {out_seconds:.1f} s "
        f"| {times(out_seconds / max(len(lags), 1), 'out')} per booking |"
    )
    print(
        f"| lag commit → event at the double, p50 / p99 / max | {percentile(lags, 0.5) * 1000:.0f} / "
        f"{percentile(lags, 0.99) * 1000:.0f} / {max(lags) * 1000:.0f} ms "
        f"| {times(percentile(lags, 0.5), 'out')} / {times(percentile(lags, 0.99), 'out')} / "
        f"{times(max(lags), 'out')} |"
    )
    rate = booked / in_seconds
    print(
        f"| Outlook meetings applied (booked) in one cycle | {booked} in {in_seconds:.1f} s = {rate:.0f} /s "
        f"| {times(in_seconds / max(booked, 1), 'in')} per meeting |"
    )
    print(
        f"| idle cycle over all rooms | {idle_seconds * 1000:.0f} ms, {idle_requests} requests "
        f"({idle_seconds * 1000 / args.rooms:.1f} ms per room) "
        f"| {times(idle_seconds / args.rooms, 'idle')} per room |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
