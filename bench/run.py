"""The load benchmark: its own data dir, production settings, wrk, one results table.

    make bench                                   # 10 s per run, 50 and 200 connections
    make bench BENCH_ARGS="--duration 30 --connections 50,200,400"

Starts the embedded PostgreSQL and Redis of var/bench (never another data dir), migrates,
seeds 200 rooms and 20,000 bookings (``seed_bench``, idempotent), collects static files,
starts gunicorn with deploy/gunicorn.conf.py and drives it with wrk. Every scenario runs
at every connection count in one go, with the trivial /healthz as the ceiling of the
stack measured in the same run: on a shared 2-core machine only the ratios to it travel.
At the end gunicorn and the embedded servers are stopped, whatever happened.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import resource
import runpy
import secrets
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import servers  # bench/servers.py: this folder is on sys.path when run as a script
from servers import ensure_wrk

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
TZ = ZoneInfo("Europe/Berlin")
# (name, script, what it measures); the ceiling comes first so every ratio has it.
SCENARIOS = [
    ("ceiling", "healthz.lua", "GET /healthz (trivial view)"),
    ("day plan", "availability.lua", "GET /api/v1/availability?date=DAY"),
    ("free rooms", "free_rooms.lua", "GET /api/v1/rooms?free_from&free_to (1 h)"),
    ("room list", "rooms.lua", "GET /api/v1/rooms"),
    ("book", "book.lua", "POST /api/v1/bookings, contended"),
    ("timeline", "timeline.lua", "GET /plan/?place=site-ID&date (staff page, 200 rooms, HTML)"),
]
# What Indico 3.3 serves on this kind of machine (req/s), and our goal: ten times that.


# Signs in 20 bench users the way the login view does (session with user id, backend
# and password hash) and writes one `sessionid=KEY` line each.
SESSIONS_SCRIPT = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import get_user_model
store = import_module(settings.SESSION_ENGINE).SessionStore
lines = []
for user in get_user_model().objects.filter(username__startswith="bench").order_by("username")[:20]:
    session = store()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    lines.append(settings.SESSION_COOKIE_NAME + "=" + session.session_key)
open({path!r}, "w").write("\\n".join(lines) + "\\n")
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run (10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load per scenario (2)")
    parser.add_argument("--connections", default="50,200", help="comma-separated (50,200)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--timeout", default="10s", help="wrk request timeout (10s)")
    parser.add_argument("--rooms", type=int, default=200)
    parser.add_argument("--bookings", type=int, default=20000)
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (a free one)")
    parser.add_argument(
        "--only", default="", help="comma-separated scenarios to run (ceiling always runs), e.g. 'day plan'"
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--serve", action="store_true", help="set up and serve until Ctrl-C, without load (for profiling)"
    )
    return parser.parse_args(argv)


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.base = ""  # the running gunicorn, once started
        self.args = args
        self.data = args.data_dir.resolve()
        self.env = self._environment()
        self.gunicorn: subprocess.Popen | None = None
        self.log = self.data / "log"

    def _environment(self) -> dict:
        env = dict(os.environ)
        # Our own embedded servers and production settings, whatever the shell has.
        for name in ("DATABASE_URL", "REDIS_URL", "RFR_DEBUG", "RFR_STATIC_MANIFEST", "RFR_STATIC_ROOT"):
            env.pop(name, None)
        env.update(
            {
                "RFR_DATA_DIR": str(self.data),
                "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
                "PYTHONPATH": str(ROOT),
                "RFR_LOG_LEVEL": "WARNING",
            }
        )
        return env

    def manage(self, *command: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise SystemExit(f"manage.py {' '.join(command)} failed:\n{result.stderr or result.stdout}")
        return result.stdout

    def prepare(self) -> date:
        self.data.mkdir(parents=True, exist_ok=True)
        print(f"data dir {self.data}", flush=True)
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")
        out = self.manage(
            "seed_bench",
            "--rooms",
            str(self.args.rooms),
            "--bookings",
            str(self.args.bookings),
            "--tokens-file",
            str(self.tokens_file),
        )
        print(out.rstrip(), flush=True)
        self.manage("shell", "-c", SESSIONS_SCRIPT.format(path=str(self.sessions_file)))
        match = re.search(r"^benchmark day: (\d{4}-\d{2}-\d{2})$", out, re.MULTILINE)
        if not match:
            raise SystemExit("seed_bench printed no benchmark day")
        return date.fromisoformat(match.group(1))

    @property
    def tokens_file(self) -> Path:
        return self.data / "bench-tokens.txt"

    @property
    def sessions_file(self) -> Path:
        """Signed-in sessions of bench users, for the staff pages (which take no bearer token)."""
        return self.data / "bench-sessions.txt"

    def start_gunicorn(self) -> str:
        self.gunicorn, base = servers.start_gunicorn(
            env=self.env, log_dir=self.log, name="gunicorn", port=self.args.port
        )
        return base

    def stop(self) -> None:
        servers.stop(self.gunicorn, env=self.env, data=self.data)

    def server_roots(self) -> list[int]:
        """gunicorn's master and PostgreSQL's postmaster: all server work happens below them."""
        roots = [self.gunicorn.pid] if self.gunicorn else []
        with contextlib.suppress(OSError, ValueError, IndexError):
            roots.append(int((self.data / "postgres" / "postmaster.pid").read_text().split()[0]))
        return roots

    def get_json(self, base: str, path: str):
        token = self.tokens_file.read_text().split()[0]
        response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        response.raise_for_status()
        return response.json()


TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the state on


def server_cpu(roots: list[int]) -> float:
    """CPU seconds the servers used so far: each root, its reaped children, its live children.

    Throughput on a shared machine depends on what else runs; CPU time per request much less.
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total = 0
    for root in roots:
        fields = _stat(root)
        if fields is None:
            continue
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
        for child in children.get(root, []):
            if child_fields := _stat(child):
                total += sum(int(v) for v in child_fields[11:15])
    return total / TICK


def iso(day: date, hour: int) -> str:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).isoformat()


def post_day() -> date:
    """A weekday past the seeded three months, new for every run, so the slots start free."""
    day = date.today() + timedelta(days=90 + secrets.randbelow(600))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def scenario_args(name: str, bench: Bench, day: date, contended_rooms: list[int]) -> list[str]:
    tokens = str(bench.tokens_file)
    if name == "ceiling":
        return ["-"]
    if name == "day plan":
        return [tokens, day.isoformat()]
    if name == "free rooms":
        hours = []
        for hour in range(8, 19):
            hours += [quote(iso(day, hour), safe=""), quote(iso(day, hour + 1), safe="")]
        return [tokens, *hours]
    if name == "room list":
        return [tokens]
    if name == "timeline":
        # The whole site on one page: all 200 rooms, as a facility manager looks at it.
        site = bench.get_json(bench.base, "/api/v1/rooms")[0]["site"]["id"]
        return [str(bench.sessions_file), f"site-{site}", day.isoformat()]
    if name == "book":
        target = post_day()
        slots = []
        for hour in (9, 10, 11, 14):
            slots += [iso(target, hour), iso(target, hour + 1)]
        rooms = ",".join(str(r) for r in contended_rooms)
        return [tokens, secrets.token_hex(6), rooms, *slots]
    raise ValueError(name)


def run_wrk(wrk: str, base: str, script: str, args: list[str], *, connections: int, seconds: int, opts):
    command = [
        wrk,
        "--threads",
        str(min(opts.threads, connections)),
        "--connections",
        str(connections),
        "--duration",
        f"{seconds}s",
        "--timeout",
        opts.timeout,
        "--latency",
        "--script",
        script,
        base,
        "--",
        *args,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, cwd=BENCH, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    match = re.search(r"^BENCH_RESULT (\{.*\})$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or not match:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    outcome = json.loads(match.group(1))
    outcome["wrk_cpu"] = wrk_cpu
    return outcome, result.stdout


def measure(wrk, base, name, script, bench, day, contended, conns, args) -> dict:
    """Warm up, then one measured wrk run; fresh arguments each time (new booking day and keys)."""
    if args.warmup:
        warm = scenario_args(name, bench, day, contended)
        run_wrk(wrk, base, script, warm, connections=conns, seconds=args.warmup, opts=args)
    cpu_before = server_cpu(bench.server_roots())
    result, _raw = run_wrk(
        wrk,
        base,
        script,
        scenario_args(name, bench, day, contended),
        connections=conns,
        seconds=args.duration,
        opts=args,
    )
    server = server_cpu(bench.server_roots()) - cpu_before
    result.update(
        scenario=name,
        connections=conns,
        server_ms=1000 * server / max(result["requests"], 1),
        wrk_ms=1000 * result["wrk_cpu"] / max(result["requests"], 1),
    )
    print(
        f"{name:>10} @ {conns:>3}: {result['rps']:8.1f} req/s  p50 {result['p50']:7.1f} ms  "
        f"p99 {result['p99']:7.1f} ms  errors {result['errors']}  "
        f"server CPU {result['server_ms']:.2f} ms/req",
        flush=True,
    )
    return result


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores {model}, Python {platform.python_version()}, {platform.platform()}"


def gunicorn_sizing(env: dict) -> str:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return f"gunicorn {conf['worker_class']}: {conf['workers']} workers x {conf['threads']} threads"


def table(results: list[dict]) -> str:
    lines = [
        "| scenario | connections | req/s | p50 ms | p95 ms | p99 ms | errors | vs ceiling "
        "| KiB/answer | server CPU ms/req | wrk CPU ms/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    order = {name: i for i, (name, _script, _what) in enumerate(SCENARIOS)}
    for r in sorted(results, key=lambda r: (r["connections"], order[r["scenario"]])):
        ratio = r["ratio"]
        kib = r.get("bytes", 0) / max(r["requests"], 1) / 1024
        name = r["scenario"]
        if name == "ceiling":
            name += f" (median of {r['runs']})"
        if name == "book":
            name += f" ({r.get('created', 0)}x201, {r.get('conflict', 0)}x409)"
        lines.append(
            f"| {name} | {r['connections']} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['p99']:.1f} | {r['errors']} | {ratio:.3f} | {kib:.1f} "
            f"| {r['server_ms']:.2f} | {r['wrk_ms']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    connections = [int(c) for c in args.connections.split(",") if c.strip()]
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    chosen = [s for s in SCENARIOS if not only or s[0] in only or s[0] == "ceiling"]
    # TERM (from a CI timeout, say) unwinds like Ctrl-C, so the servers are stopped.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    wrk = None if args.serve else ensure_wrk()
    bench = Bench(args)
    results: list[dict] = []
    try:
        day = bench.prepare()
        base = bench.start_gunicorn()
        bench.base = base
        sizing = gunicorn_sizing(bench.env)
        print(f"machine: {machine()}\n{sizing}\nserving {base}, benchmark day {day}", flush=True)
        if args.serve:
            print("serving until Ctrl-C", flush=True)
            try:
                while bench.gunicorn.poll() is None:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
            return 0
        # Booking contention on the five smallest rooms: the ones a 3-person meeting wants.
        contended = [r["id"] for r in bench.get_json(base, "/api/v1/rooms")[:5]]
        for conns in connections:
            ceilings = []
            for name, script, _what in chosen[1:]:
                # The ceiling right before each scenario: others' load on a shared machine
                # comes and goes, and a ratio is only fair between neighbouring runs.
                ceiling = measure(wrk, base, "ceiling", "healthz.lua", bench, day, contended, conns, args)
                ceilings.append(ceiling)
                result = measure(wrk, base, name, script, bench, day, contended, conns, args)
                result["ratio"] = result["rps"] / ceiling["rps"]
                results.append(result)
            if ceilings:
                ceilings.sort(key=lambda r: r["rps"])
                results.append({**ceilings[len(ceilings) // 2], "ratio": 1.0, "runs": len(ceilings)})
        print()
        print(f"{args.duration} s per run, {args.threads} wrk threads; {machine()}; {sizing}")
        print(table(results))
        if args.json:
            args.json.write_text(json.dumps({"machine": machine(), "sizing": sizing, "results": results}))
        return 1 if any(r["errors"] for r in results) else 0
    finally:
        bench.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
