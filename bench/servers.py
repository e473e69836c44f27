"""What both load benchmarks need: wrk, a free port, and gunicorn on an embedded data dir.

gunicorn runs with the production configuration (deploy/gunicorn.conf.py); stopping it
also stops the embedded PostgreSQL and Redis of the benchmark's data dir.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_wrk() -> str:
    """wrk's path; installed from Debian's package when missing and we are root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise SystemExit(
        "The benchmark needs wrk (https://github.com/wg/wrk). Install it, e.g. "
        "`sudo apt-get install wrk` on Debian/Ubuntu or `dnf install wrk` (EPEL), then run again."
    )


def start_gunicorn(
    *, env: dict, log_dir: Path, name: str, port: int | None = None
) -> tuple[subprocess.Popen, str]:
    """gunicorn with the production configuration; returns it and its base URL once /readyz answers."""
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    # The app logs every 4xx (each 409 of a contended booking) to stderr: keep it in a file.
    with open(log_dir / f"{name}.out", "a") as output:
        gunicorn = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "raumfuerraum.wsgi",
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
                "--error-logfile",
                str(log_dir / f"{name}.log"),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if gunicorn.poll() is not None:
            raise SystemExit(f"gunicorn exited with {gunicorn.returncode}; see {log_dir}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return gunicorn, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"gunicorn not ready after 60 s; see {log_dir}")
        time.sleep(0.2)


def stop(gunicorn: subprocess.Popen | None, *, env: dict, data: Path) -> None:
    """Stop gunicorn (gracefully, then hard) and the embedded servers of the data dir."""
    if gunicorn is not None and gunicorn.poll() is None:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(gunicorn.pid, signal.SIGKILL)
            gunicorn.wait()
    subprocess.run([sys.executable, "manage.py", "embedded", "stop"], cwd=ROOT, env=env, capture_output=True)
    print("stopped gunicorn and the embedded servers of", data, flush=True)
