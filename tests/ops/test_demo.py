"""`make demo` as a new user meets it: two side by side, each stopped cleanly.

Runs the real command (make, gunicorn, Celery worker and beat, embedded PostgreSQL
and Redis) twice with different ports and data dirs. One is stopped as a terminal's
Ctrl-C does (SIGINT to the whole process group), the other with SIGTERM to make alone;
afterwards not one of their processes may be left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.embedded_only]


def demo_env(data_dir: Path, port: int = 0) -> dict:
    """A user's shell: no test settings, no external servers."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"} and not k.startswith("PYTEST")
    }
    env.update({"PORT": str(port), "RFR_DATA_DIR": str(data_dir)})
    return env


def start_demo(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        ["make", "--no-print-directory", "demo"],
        cwd=ROOT,
        env=demo_env(data_dir, port),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"demo exited early:\n{log.read_text()[-3000:]}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not up after {timeout}s:\n{log.read_text()[-3000:]}")


def demo_processes(make: subprocess.Popen, data_dir: Path) -> list[psutil.Process]:
    """make, everything below it, and the embedded servers (which run detached)."""
    procs = [psutil.Process(make.pid), *psutil.Process(make.pid).children(recursive=True)]
    pg_pid = int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    redis_pid = int((data_dir / "redis" / "redis.pid").read_text().strip())
    procs += [psutil.Process(pg_pid), psutil.Process(redis_pid)]
    return procs


def assert_all_gone(procs: list[psutil.Process], timeout: float = 60) -> None:
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left behind: {[(p.pid, p.cmdline()) for p in alive]}"


@pytest.fixture
def demo_root():
    # Not under pytest's tmp folder: pytest resets that to 0700 whenever another run
    # starts, and the database server's own user must be able to reach its data.
    path = Path(tempfile.mkdtemp(prefix="rfr-demo-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_it_runs_two_demos_side_by_side_and_stops_each_without_leftovers(tmp_path, demo_root):
    first_dir, second_dir = demo_root / "one", demo_root / "two"
    first_port, second_port = free_port(), free_port()
    first = start_demo(first_dir, first_port, tmp_path / "one.log")
    second = start_demo(second_dir, second_port, tmp_path / "two.log")
    try:
        wait_for(f"http://127.0.0.1:{first_port}/readyz", first, tmp_path / "one.log")
        wait_for(f"http://127.0.0.1:{second_port}/readyz", second, tmp_path / "two.log")
        # Each serves its own seeded data: the demo user exists and the rooms are listed.
        for port in (first_port, second_port):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                login = client.get("/admin/login/")
                assert login.status_code == 200
                assert "X-RFR-Version" in login.headers
        log = (tmp_path / "one.log").read_text()
        assert f"http://127.0.0.1:{first_port}/" in log
        assert "admin / admin-demo-2026" in log and "demo / demo-demo-2026" in log

        first_procs = demo_processes(first, first_dir)
        second_procs = demo_processes(second, second_dir)

        # Ctrl-C in a terminal: SIGINT to the foreground process group.
        os.killpg(first.pid, signal.SIGINT)
        assert_all_gone(first_procs)
        # The other demo did not notice.
        assert httpx.get(f"http://127.0.0.1:{second_port}/readyz", timeout=5).status_code == 200

        # SIGTERM to make alone: make passes it on, the demo stops everything.
        second.send_signal(signal.SIGTERM)
        assert_all_gone(second_procs)
        assert "Stopped." in (tmp_path / "two.log").read_text()
    finally:
        for process in (first, second):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for data_dir in (first_dir, second_dir):
            subprocess.run(
                [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "embedded", "stop"],
                cwd=ROOT,
                env=demo_env(data_dir),
                capture_output=True,
                check=False,
            )
