"""Door display benchmark: 10,000 displays polling status.json with If-None-Match.

    .venv/bin/python bench/displays.py                  # 20 s per run
    .venv/bin/python bench/displays.py --duration 60 --displays 10000

Uses its own embedded PostgreSQL and Redis in var/bench-displays (never another data
dir), migrates, seeds rooms with today's bookings and the displays (bulk_create; tokens
derived from SECRET_KEY, so a rerun finds the same ones), fetches each display's status
once (as a panel does when it loads the page), then starts gunicorn with
deploy/gunicorn.conf.py and drives it with wrk (bench/displays.lua):

- ceiling: GET /healthz as fast as the stack goes
- 304 poll, max: every display's status.json with its ETag, as fast as it goes
- 304 poll, 10,000 displays every 15 s: the same, paced to displays / interval req/s
- 200 poll, max: without If-None-Match (the body comes from Redis)

PostgreSQL work per request is read from pg_stat_database (transactions committed or
rolled back in the app's database while the run lasted; Django runs each query in its
own transaction under autocommit). At the end gunicorn and the embedded servers stop.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import servers  # bench/servers.py: this folder is on sys.path when run as a script
from servers import ensure_wrk

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SITE = "Display-Benchmark"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--displays", type=int, default=10000)
    parser.add_argument("--rooms", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between a display's polls (15)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run (20)")
    parser.add_argument(
        "--warmup", type=int, default=3, help="seconds of unmeasured load before each run (3)"
    )
    parser.add_argument("--connections", type=int, default=64, help="connections of the max runs (64)")
    parser.add_argument("--paced-connections", type=int, default=100, help="connections of the paced run")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (1: leave the cores to the app)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-displays")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


def display_token(secret_key: str, index: int) -> str:
    digest = hmac.new(secret_key.encode(), f"bench-display:{index}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.data = args.data_dir.resolve()
        self.gunicorn: subprocess.Popen | None = None
        self.env = {
            k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "RFR_DEBUG")
        }
        self.env.update(
            {
                "RFR_DATA_DIR": str(self.data),
                "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
                "PYTHONPATH": str(ROOT),
                "RFR_LOG_LEVEL": "WARNING",
            }
        )
        # This process runs Django too (seeding, warming): same data dir, same settings.
        os.environ.clear()
        os.environ.update(self.env)

    def manage(self, *command: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(command)} failed:\n{result.stderr or result.stdout}")

    def prepare(self) -> tuple[Path, Path]:
        """Migrate, seed, warm: returns the targets files of the polls and of /healthz."""
        self.data.mkdir(parents=True, exist_ok=True)
        print(f"data dir {self.data}", flush=True)
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        started = time.monotonic()
        tokens = seed(rooms=self.args.rooms, displays=self.args.displays)
        print(f"seeded/found {len(tokens)} displays in {time.monotonic() - started:.1f} s", flush=True)
        started = time.monotonic()
        targets = self.data / "display-targets.txt"
        targets.write_text("".join(f"/d/{raw}/status.json {etag}\n" for raw, etag in warm(tokens)))
        print(f"fetched every display's status once in {time.monotonic() - started:.1f} s", flush=True)
        healthz = self.data / "healthz-targets.txt"
        healthz.write_text("/healthz -\n")
        return targets, healthz

    def start_gunicorn(self) -> str:
        self.gunicorn, base = servers.start_gunicorn(
            env=self.env, log_dir=self.data / "log", name="gunicorn-displays"
        )
        return base

    def stop(self) -> None:
        from django.db import connections

        connections.close_all()  # this process seeded through Django: let go before the server stops
        servers.stop(self.gunicorn, env=self.env, data=self.data)


def seed(*, rooms: int, displays: int) -> list[str]:
    """Rooms with today's bookings and their displays; idempotent. Returns the raw tokens."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from bookings.models import Booking, Building, Floor, Room, Site
    from bookings.spans import make_span
    from displays.lookup import hash_token
    from displays.models import Display

    tokens = [display_token(settings.SECRET_KEY, i) for i in range(displays)]
    site = Site.objects.filter(name=SITE).first()
    if site is not None:
        have = Display.objects.filter(room__floor__building__site=site).count()
        if have != displays:
            raise SystemExit(f"{SITE} holds {have} displays, not {displays}: use a fresh --data-dir.")
        return tokens
    with transaction.atomic():
        site = Site.objects.create(name=SITE, time_zone="Europe/Berlin")
        building = Building.objects.create(site=site, name="Turm")
        floors = Floor.objects.bulk_create(
            Floor(building=building, name=f"{n}. OG", level=n) for n in range(50)
        )
        room_rows = Room.objects.bulk_create(
            (Room(floor=floors[i % 50], name=f"T.{i % 50}.{i // 50:03d}", capacity=8) for i in range(rooms)),
            batch_size=2000,
        )
        organizer = get_user_model().objects.create(username="bench-displays")
        today = timezone.now().astimezone(site.tz).date()
        bookings = []
        for n, room in enumerate(room_rows):
            # Three meetings a day at staggered hours: panels show every state at any hour.
            for hour in (8 + n % 3, 12 + n % 4, 17 + n % 5):
                start = datetime.combine(today, dtime(hour % 24, 15 * (n % 4)), tzinfo=site.tz)
                bookings.append(
                    Booking(
                        room=room,
                        span=make_span(start, start + timedelta(minutes=45)),
                        title=f"Besprechung {n}",
                        organizer=organizer,
                        private=n % 7 == 0,
                        source=Booking.Source.IMPORT,
                    )
                )
        Booking.objects.bulk_create(bookings, batch_size=5000)
        Display.objects.bulk_create(
            (
                Display(
                    room=room_rows[i % rooms],
                    name=f"Panel {i}",
                    token_hash=hash_token(raw),
                    token_prefix=raw[:6],
                    privacy=Display.Privacy.TITLES if i % 2 else Display.Privacy.OCCUPIED,
                )
                for i, raw in enumerate(tokens)
            ),
            batch_size=5000,
        )
    return tokens


def warm(tokens: list[str]) -> list[tuple[str, str]]:
    """Each display's status once, as its page load does: fills Redis, gives the ETags."""
    from django.utils import timezone

    from displays import lookup

    pairs = []
    for raw in tokens:
        info = lookup.display_for_token(raw)
        pairs.append((raw, lookup.snapshot(info, timezone.now()).etag))
    return pairs


def pg_transactions() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        return int(cursor.fetchone()[0])


def run_wrk(wrk: str, base: str, args: list[str], *, connections: int, seconds: int, threads: int) -> dict:
    command = [
        wrk,
        "--threads",
        str(min(threads, connections)),
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "--script",
        "displays.lua",
        base,
        "--",
        *args,
    ]
    result = subprocess.run(command, cwd=BENCH, capture_output=True, text=True)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return json.loads(match.group(1))


def measure(
    wrk: str, base: str, name: str, script_args: list[str], *, connections: int, opts, rate: float = 0
) -> dict:
    """Warm up, then one measured run. With ``rate``, the warm-up calibrates the pause.

    A paced connection sends, waits for the answer, then pauses: its cycle is pause plus
    latency, so the pause that gives ``rate`` depends on the latency under that load.
    """
    if opts.warmup:
        warm = run_wrk(
            wrk, base, script_args, connections=connections, seconds=opts.warmup, threads=opts.threads
        )
        if rate:
            pause = float(script_args[2])
            latency_ms = max(connections / max(warm["rps"], 1) * 1000 - pause, 0)
            script_args = [*script_args[:2], str(max(int(connections / rate * 1000 - latency_ms), 0))]
    time.sleep(1.5)  # let every backend report its statistics before the first reading
    before = pg_transactions()
    result = run_wrk(
        wrk, base, script_args, connections=connections, seconds=opts.duration, threads=opts.threads
    )
    time.sleep(1.5)
    # The reading itself is a transaction too.
    result["pg_xacts"] = max(pg_transactions() - before - 1, 0)
    result["pg_per_request"] = result["pg_xacts"] / max(result["requests"], 1)
    result["pause_ms"] = int(script_args[2]) if len(script_args) > 2 else 0
    result["errors"] = result["socket_errors"] + result["other"]
    result.update(scenario=name, connections=connections)
    print(
        f"{name:>34}: {result['rps']:8.1f} req/s  p50 {result['p50']:6.2f} ms  p99 {result['p99']:6.2f} ms  "
        f"errors {result['errors']}  200/304 {result['s200']}/{result['s304']}  "
        f"PostgreSQL {result['pg_per_request']:.4f}/request",
        flush=True,
    )
    return result


def table(results: list[dict]) -> str:
    lines = [
        "| scenario | connections | req/s | p50 ms | p90 ms | p99 ms | errors | 200 / 304 "
        "| PostgreSQL xacts per request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['connections']} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p90']:.2f} "
            f"| {r['p99']:.2f} | {r['errors']} | {r['s200']} / {r['s304']} | {r['pg_per_request']:.4f} |"
        )
    return "\n".join(lines)


def machine() -> str:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores {model}, Python {platform.python_version()}"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    wrk = ensure_wrk()
    bench = Bench(args)
    try:
        targets, healthz = bench.prepare()
        base = bench.start_gunicorn()
        rate = args.displays / args.interval
        # Each paced connection waits so that all of them together poll at `rate`.
        pace_ms = max(int(args.paced_connections / rate * 1000) - 1, 0)
        results = [
            measure(
                wrk,
                base,
                "ceiling: GET /healthz",
                [str(healthz), "none"],
                connections=args.connections,
                opts=args,
            ),
            measure(
                wrk, base, "304 poll, max", [str(targets), "etag"], connections=args.connections, opts=args
            ),
            measure(
                wrk,
                base,
                f"304 poll, {args.displays} displays every {args.interval:g} s",
                [str(targets), "etag", str(pace_ms)],
                connections=args.paced_connections,
                opts=args,
                rate=rate,
            ),
            measure(
                wrk,
                base,
                "200 poll (no ETag), max",
                [str(targets), "none"],
                connections=args.connections,
                opts=args,
            ),
        ]
        print()
        print(
            f"target {rate:.0f} req/s; {args.duration} s per run, {args.threads} wrk thread(s); {machine()}"
        )
        print(table(results))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        bench.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
