"""cProfile of one page or API answer, in one process, on the benchmark's data.

    .venv/bin/python bench/profile_page.py "/plan/?place=site-ID&date=DAY"   # run.py prints ID and DAY
    .venv/bin/python bench/profile_page.py /api/v1/rooms --repeat 200 --top 40

Uses var/bench (seeded by bench/run.py; start it once with ``bench/run.py --serve`` or a
normal run first), starts its embedded PostgreSQL and Redis if they are down, signs in
the first bench user, warms up with one request, then profiles ``--repeat`` more through
Django's test client (the whole middleware stack, without gunicorn) and prints the
functions by own time and by cumulative time, plus the wall time per request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="the request path with its query string")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--user", default="bench0001")
    parser.add_argument("--language", default="en")
    parser.add_argument("--out", type=Path, help="also write the raw profile here (for snakeviz etc.)")
    args = parser.parse_args(argv)
    for name in ("DATABASE_URL", "REDIS_URL", "RFR_DEBUG"):
        os.environ.pop(name, None)
    os.environ.update(
        RFR_DATA_DIR=str(args.data_dir.resolve()), DJANGO_SETTINGS_MODULE="raumfuerraum.settings"
    )
    sys.path.insert(0, str(ROOT))
    import django

    from ops import runtime

    runtime.ensure_services()

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ALLOWED_HOSTS = ["*"]
    user = get_user_model().objects.get(username=args.user)
    client = Client(HTTP_ACCEPT_LANGUAGE=args.language, HTTP_ACCEPT_ENCODING="gzip")
    headers = {}
    if args.path.startswith("/api/"):
        from bookings.management.commands.seed_bench import bench_token

        headers["HTTP_AUTHORIZATION"] = f"Bearer {bench_token(user.username)}"
    else:
        client.force_login(user)
    first = client.get(args.path, **headers)
    if first.status_code != 200:
        print(f"{args.path} answered {first.status_code}", file=sys.stderr)
        return 1
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for _ in range(args.repeat):
        client.get(args.path, **headers)
    profile.disable()
    wall = (time.perf_counter() - started) / args.repeat
    print(
        f"{args.path}: {len(first.content) / 1024:.1f} KiB as sent, "
        f"{wall * 1000:.1f} ms per request under cProfile"
    )
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats(order).print_stats(args.top)
        print(text.getvalue())
    if args.out:
        profile.dump_stats(str(args.out))
    # Without the profiler, for the real cost per request.
    started = time.perf_counter()
    for _ in range(args.repeat):
        client.get(args.path, **headers)
    print(f"without the profiler: {(time.perf_counter() - started) / args.repeat * 1000:.1f} ms per request")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
