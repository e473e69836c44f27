#!/usr/bin/env python3
"""Upgrade one app server to a new release without refusing or dropping a request.

    deploy/upgrade.py /srv/src/raumfuerraum-0.2.0          # a source folder or a .tar.gz
    deploy/upgrade.py --rollback                           # back to the release before

Layout under --root (default /opt/raumfuerraum), which the systemd units start through:

    releases/<name>/               one folder per release (its .venv with --build-venv)
    current  -> releases/<name>    what gunicorn, the Celery worker and beat run
    previous -> releases/<name>    the release before; --rollback returns to it

Steps (docs/operations.md explains each for the operator):

1. install the new release beside the running one (nothing running changes);
2. with the new release's code: `check` and `check_migrations --pending` (refuse a
   migration the running release cannot live with), then `migrate_safely` (short lock
   timeouts, retried) and `collectstatic`, while the old release keeps serving;
3. swap (USR2, measured best, see docs/operations.md): gunicorn re-executes itself from
   `current`, now the new release, as a second master on the same listening socket. Its
   workers accept nothing before their own /readyz answers 200 (gate in
   deploy/gunicorn.conf.py); once this script also sees the new version ready, the old
   master gets TERM and its workers finish what they have. The kernel's accept queue
   belongs to the socket, not to a process, so no connection is refused at any moment;
4. if the new release is not ready in time (or its master dies), it is stopped, `current`
   points back at the old release, and the old master, which never stopped accepting,
   serves on alone: exit status 1. Migrations stay applied: they are expand-only, and CI
   (check_migrations) guarantees the old code works with them;
5. restart the Celery worker and beat (warm shutdown: running tasks finish, acks_late
   hands unstarted ones back to the queue).

Stdlib only, and a script rather than a management command: it must work while two
releases exist, whatever state the running one is in, and it runs each release's code
only in that release's own processes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# Folders of a source tree that are not part of a release.
IGNORED = shutil.ignore_patterns(".venv", "var", ".git", "__pycache__", "*.pyc", "*.egg-info", "node_modules")
DEFAULT_RESTART = "systemctl restart raumfuerraum-worker.service raumfuerraum-beat.service"


class UpgradeError(Exception):
    """The upgrade stopped; the message says why and what state the server is in."""


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} upgrade: {message}", file=sys.stderr, flush=True)


def release_version(release: Path) -> str:
    text = (release / "raumfuerraum" / "__init__.py").read_text()
    match = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.MULTILINE)
    if not match:
        raise UpgradeError(f"no __version__ in {release}/raumfuerraum/__init__.py")
    return match.group(1)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (comments, quotes)."""
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _sep, value = line.partition("=")
        env[key.strip()] = value.strip().strip("'\"")
    return env


# --- installing ----------------------------------------------------------------------


def install(source: Path, releases: Path, name: str | None) -> Path:
    """Copy (or unpack) the new release into releases/<name>; returns its folder."""
    staging = releases / f".incoming-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(source, staging, ignore=IGNORED, symlinks=True)
    elif tarfile.is_tarfile(source):
        with tarfile.open(source) as archive:
            archive.extractall(staging, filter="data")
        entries = list(staging.iterdir())
        if len(entries) == 1 and entries[0].is_dir():  # raumfuerraum-0.2.0/...
            inner = entries[0]
            inner.rename(staging.with_name(staging.name + "-inner"))
            staging.rmdir()
            staging.with_name(staging.name + "-inner").rename(staging)
    else:
        raise UpgradeError(f"{source} is neither a folder nor a tar archive")
    name = name or release_version(staging)
    target = releases / name
    if target.exists():
        shutil.rmtree(staging)
        raise UpgradeError(f"{target} exists already; pass --name for another folder")
    staging.rename(target)
    log(f"installed {source} as {target}")
    return target


def build_venv(release: Path) -> None:
    """A virtualenv of the release's own, so new dependencies never reach the running one."""
    log(f"building {release}/.venv")
    subprocess.run([sys.executable, "-m", "venv", str(release / ".venv")], check=True)
    pip = [str(release / ".venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, str(release)], check=True)


def python_for(release: Path, fallback: str) -> str:
    own = release / ".venv" / "bin" / "python"
    return str(own) if own.exists() else fallback


def manage(python: str, release: Path, env: dict, *args: str) -> None:
    log(f"{release.name}: manage.py {' '.join(args)}")
    result = subprocess.run([python, "manage.py", *args], cwd=release, env=env, check=False)
    if result.returncode != 0:
        raise UpgradeError(f"manage.py {args[0]} of {release.name} failed (exit {result.returncode})")


def point(link: Path, target: Path) -> None:
    """Repoint a symlink atomically: a process starting meanwhile sees old or new, never none."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    tmp.symlink_to(os.path.relpath(target, link.parent))
    os.replace(tmp, link)


# --- processes and probes --------------------------------------------------------------


def read_pid(path: Path) -> int | None:
    try:
        pid = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if pid and alive(pid) else None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def probe(url: str, host: str | None) -> tuple[int | None, str | None]:
    """(status, X-RFR-Version) of one GET on a fresh connection; (None, None) if unreachable."""
    request = urllib.request.Request(url, headers={"Host": host} if host else {})  # noqa: S310 (--url)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.headers.get("X-RFR-Version")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-RFR-Version")
    except (OSError, urllib.error.URLError):
        return None, None


class Swap:
    """Replace the running gunicorn's code by the release `current` points at."""

    def __init__(self, args: argparse.Namespace):
        self.pidfile = Path(args.pidfile)
        self.url = args.url.rstrip("/") + "/readyz"
        self.host = args.host
        self.ready_timeout = args.ready_timeout
        self.drain_timeout = args.drain_timeout
        self.settle = args.settle

    def master(self) -> int:
        pid = read_pid(self.pidfile)
        if pid is None:
            raise UpgradeError(f"no running gunicorn master in {self.pidfile}")
        return pid

    def ready_as(self, version: str, times: int = 1) -> bool:
        """`times` probes in a row answer 200 from `version` (only one release is listening)."""
        for _ in range(times):
            status, seen = probe(self.url, self.host)
            if status != 200 or seen != version:
                return False
        return True

    def answers_ready(self, version: str, seconds: float, pid: int) -> bool:
        """While two releases share the socket: does `version` answer /readyz with 200 in time?

        Probes reach either release; answers of the other one say nothing. False at once
        when `version` answers anything else or its master `pid` is gone.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not alive(pid):
                return False
            status, seen = probe(self.url, self.host)
            if seen == version:
                return status == 200
            time.sleep(0.1)
        return False

    def usr2(self, old_version: str, new_version: str) -> None:
        """Second master from `current` beside the old one; TERM the old once the new is ready."""
        old = self.master()
        trial_pidfile = Path(f"{self.pidfile}.2")
        if read_pid(trial_pidfile):
            raise UpgradeError(f"a new master is on trial already ({trial_pidfile}); stop it first")
        log(f"USR2 to master {old}: a {new_version} master starts beside it")
        os.kill(old, signal.SIGUSR2)
        deadline = time.monotonic() + self.ready_timeout
        new = None
        while new is None:
            new = read_pid(trial_pidfile)
            if time.monotonic() > deadline:
                raise UpgradeError(f"no {new_version} master after {self.ready_timeout:.0f}s (see its log)")
            time.sleep(0.1)
        # Its workers accept nothing before they pass the gate (gunicorn.conf.py); a worker
        # that fails it stops this master, and the old one serves on alone.
        if not self.answers_ready(new_version, deadline - time.monotonic(), new):
            if not alive(new):
                raise UpgradeError(f"the {new_version} master exited: its workers failed the readiness gate")
            self._stop(new, f"{new_version} master")
            raise UpgradeError(f"{new_version} not ready in {self.ready_timeout:.0f}s")
        # Every worker of the new master passes the same gate; give the slower ones a
        # moment so none of them fails it after the old release is gone.
        time.sleep(self.settle)
        if not self.answers_ready(new_version, 30, new):
            self._stop(new, f"{new_version} master")
            raise UpgradeError(f"{new_version} failed while settling: not ready")
        # From here on the pid file names the new master: systemd (PIDFile=) follows it
        # when the old one exits, and the old one's exit leaves the file alone.
        tmp = self.pidfile.with_name(f".{self.pidfile.name}.{os.getpid()}")
        tmp.write_text(f"{new}\n")
        os.replace(tmp, self.pidfile)
        log(f"{new_version} ready on master {new}; TERM to the {old_version} master {old}")
        os.kill(old, signal.SIGTERM)
        if not wait_gone(old, self.drain_timeout):
            raise UpgradeError(f"the {old_version} master {old} still drains after {self.drain_timeout}s")
        if not self.ready_as(new_version, times=3):
            raise UpgradeError(f"{new_version} alone is not ready: act now (deploy/upgrade.py --rollback)")
        log(f"{old_version} master drained and gone")

    def hup(self, old_version: str, new_version: str) -> None:
        """Same master, new workers (measured, not the default: no gate before traffic)."""
        master = self.master()
        log(f"HUP to master {master}")
        os.kill(master, signal.SIGHUP)
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.ready_as(new_version, times=5):
                return
            time.sleep(0.2)
        raise UpgradeError(f"{new_version} not ready after {self.ready_timeout:.0f}s")

    def _stop(self, pid: int, what: str) -> None:
        log(f"stopping the {what} {pid}")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not wait_gone(pid, self.drain_timeout):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def restart_workers(commands: list[str], env: dict) -> None:
    for command in commands:
        log(f"restarting: {command}")
        # The operator's own command line (systemctl, supervisorctl, ...): a shell on purpose.
        result = subprocess.run(command, shell=True, env=env, check=False)  # noqa: S602
        if result.returncode != 0:
            raise UpgradeError(f"`{command}` failed (exit {result.returncode}); the web runs the new release")


# --- the whole upgrade ---------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", nargs="?", type=Path, help="the new release: a source folder or .tar.gz")
    parser.add_argument("--rollback", action="store_true", help="swap back to `previous` (no migrations)")
    parser.add_argument("--root", type=Path, default=Path("/opt/raumfuerraum"))
    parser.add_argument("--name", help="folder name under releases/ (default: the release's version)")
    parser.add_argument("--build-venv", action="store_true", help="give the release its own .venv (pip)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for a release without .venv")
    parser.add_argument("--env-file", type=Path, help="the units' EnvironmentFile, for manage.py")
    parser.add_argument("--pidfile", default="/run/raumfuerraum/gunicorn.pid", help="gunicorn's pid file")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="where this server's gunicorn answers")
    parser.add_argument("--host", help="Host header for the probes (one of RFR_ALLOWED_HOSTS)")
    parser.add_argument("--method", choices=["usr2", "hup"], default="usr2")
    parser.add_argument("--ready-timeout", type=float, default=90, help="seconds for the new release")
    parser.add_argument("--drain-timeout", type=float, default=60, help="seconds for the old master to exit")
    parser.add_argument("--settle", type=float, default=2, help="seconds the new release stays ready before")
    parser.add_argument(
        "--restart",
        action="append",
        help=f"command that restarts the Celery worker and beat (repeatable; default under systemd: "
        f"{DEFAULT_RESTART!r})",
    )
    parser.add_argument("--no-restart", action="store_true", help="leave Celery alone")
    parser.add_argument(
        "--allow-unsafe-migrations",
        action="store_true",
        help="run migrations the running release cannot live with (errors until the swap)",
    )
    args = parser.parse_args(argv)
    if bool(args.source) == args.rollback:
        parser.error("give either SOURCE or --rollback")
    if args.restart is None:
        args.restart = [DEFAULT_RESTART] if Path("/run/systemd/system").is_dir() else []
    if args.no_restart:
        args.restart = []
    return args


def upgrade(args: argparse.Namespace) -> int:
    root = args.root.resolve()
    releases, current, previous = root / "releases", root / "current", root / "previous"
    env = dict(os.environ)
    if args.env_file:
        env.update(read_env_file(args.env_file))
    old = current.resolve()
    old_version = release_version(old)

    if args.rollback:
        if not previous.exists():
            raise UpgradeError(f"{previous} does not exist: nothing to roll back to")
        new = previous.resolve()
    else:
        releases.mkdir(parents=True, exist_ok=True)
        new = install(args.source.resolve(), releases, args.name)
        if args.build_venv:
            build_venv(new)
    new_version = release_version(new)
    python = python_for(new, args.python)
    log(f"{old_version} ({old.name}) -> {new_version} ({new.name}), method {args.method}")
    if args.method == "usr2" and old_version == new_version:
        raise UpgradeError("both releases carry the same version; readiness could not tell them apart")

    if not args.rollback:
        try:
            manage(python, new, env, "check")
            if not args.allow_unsafe_migrations:
                manage(python, new, env, "check_migrations", "--pending")
            manage(python, new, env, "migrate_safely")
            manage(python, new, env, "collectstatic", "--noinput", "--verbosity", "0")
        except UpgradeError as exc:
            # Applied migrations stay: they are expand-only, the old release runs on them.
            shutil.rmtree(new, ignore_errors=True)
            raise UpgradeError(f"{exc}; nothing swapped, {old_version} serves on") from exc

    swap = Swap(args)
    point(current, new)
    try:
        if args.method == "usr2":
            swap.usr2(old_version, new_version)
        else:
            swap.hup(old_version, new_version)
    except UpgradeError as exc:
        log(f"{exc}; rolling back to {old_version}")
        point(current, old)
        if args.method == "hup":
            swap.hup(new_version, old_version)
        if not swap.ready_as(old_version, times=3):
            raise UpgradeError(f"rolled back to {old_version}, but it is not ready: act now") from exc
        raise UpgradeError(f"rolled back: {old_version} serves, {new_version} was not ready ({exc})") from exc
    point(previous, old)
    log(f"{new_version} serves; `{Path(sys.argv[0]).name} --rollback` returns to {old_version}")
    restart_workers(args.restart, env)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return upgrade(args)
    except UpgradeError as exc:
        log(f"FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; check `readlink " + shlex.quote(str(args.root / "current")) + "` and the masters")
        return 130


if __name__ == "__main__":
    sys.exit(main())
