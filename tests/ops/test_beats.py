"""Two Celery beats on one Redis (one per app server): each periodic job runs once per tick.

Two real `celery beat` processes, started a second apart with the production settings and
the outbox sweep every 2 s, send to a Redis database of their own with no worker reading
it, so every job they send stays in the queue to be counted. Each tick of the sweep must
be sent exactly once while both run, and on after one of them is killed with SIGKILL.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from ops import runtime
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.embedded_only]

SWEEP = "bookings.tasks.sweep_outbox"
EVERY = 2


def _redis_url() -> str:
    # A database of its own: the suite's kicks and other tests' queues stay apart.
    return runtime.redis_url().replace("db=0", "db=11")


def _beat(folder: Path, name: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "RFR_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "raumfuerraum.settings",
            "RFR_DATA_DIR": str(folder),
            "RFR_SECRET_KEY": "beat-tests-" + "x" * 40,
            # Beat never opens the database; the settings only need an address.
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
            "REDIS_URL": _redis_url(),
            "RFR_OUTBOX_SWEEP_SECONDS": str(EVERY),
            "PYTHONPATH": str(ROOT),
        }
    )
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "raumfuerraum", "beat", "--loglevel", "INFO"),
            *("--schedule", str(folder / f"{name}-schedule"), "--max-interval", "1"),
        ],
        cwd=ROOT,
        env=env,
        stdout=(folder / f"{name}.log").open("w"),
        stderr=subprocess.STDOUT,
    )


def _sent(queue: redis.Redis) -> Counter:
    """Jobs sent so far, by task name (the messages in the default queue, unread)."""
    return Counter(json.loads(raw)["headers"]["task"] for raw in queue.lrange("celery", 0, -1))


def _sweeps_sent(queue: redis.Redis) -> int:
    return _sent(queue)[SWEEP]


def _wait_for_sweeps(queue: redis.Redis, count: int, timeout: float, beats: list) -> None:
    deadline = time.monotonic() + timeout
    while _sweeps_sent(queue) < count:
        for beat in beats:
            assert beat.poll() is None, "a beat exited"
        assert time.monotonic() < deadline, f"only {_sweeps_sent(queue)} sweeps sent in {timeout}s"
        time.sleep(0.2)


def logs_all(folder: Path) -> str:
    return "".join(p.read_text() for p in folder.glob("*.log"))


def test_it_sends_each_tick_once_with_two_beats_and_on_when_one_dies(tmp_path):
    queue = redis.Redis.from_url(_redis_url())
    queue.flushdb()
    one, two = _beat(tmp_path, "one"), _beat(tmp_path, "two")
    try:
        # Both beats up and sending: the first sweep sent, then a stretch with both.
        _wait_for_sweeps(queue, 1, timeout=60, beats=[one, two])
        time.sleep(1.5)  # the second, started at the same time, is up by now too
        both_from, before = time.time(), _sweeps_sent(queue)
        time.sleep(8 * EVERY)
        both_until, during_both = time.time(), _sweeps_sent(queue) - before
        assert one.poll() is None and two.poll() is None

        one.send_signal(signal.SIGKILL)
        one.wait(timeout=10)
        alone_from, before = time.time(), _sweeps_sent(queue)
        time.sleep(6 * EVERY)
        alone_until, during_alone = time.time(), _sweeps_sent(queue) - before
    finally:
        for beat in (one, two):
            if beat.poll() is None:
                beat.terminate()
                beat.wait(timeout=20)
    logs = "\n".join(p.read_text()[-2000:] for p in sorted(tmp_path.glob("*.log")))

    # Each beat alone sends the sweep every 2 s; both together, without the claim, twice as
    # often. With it: one per tick that passed (the first and last tick may be cut off).
    ticks_both = math.floor(both_until / EVERY) - math.floor(both_from / EVERY)
    assert ticks_both - 1 <= during_both <= ticks_both + 1, (during_both, ticks_both, logs)
    ticks_alone = math.floor(alone_until / EVERY) - math.floor(alone_from / EVERY)
    assert ticks_alone - 1 <= during_alone <= ticks_alone + 1, (during_alone, ticks_alone, logs)
    # Both beats had the sweep due: one of them found ticks already claimed by the other.
    assert "another beat sent it" in logs_all(tmp_path), logs
    queue.flushdb()
