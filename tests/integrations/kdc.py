"""A real MIT Kerberos KDC (Debian's krb5-kdc) in a temporary folder, for the EWS Negotiate tests.

A throwaway realm with its own database, a KDC on a free loopback port (UDP and TCP),
the service principal ``HTTP/localhost`` with its keytab (what the EWS double accepts
with), and the service account ``svc-rfr`` with a client keytab. ``ticket()`` signs the
service account in the way an admin's cron job or k5start does (kinit with the keytab
into a ticket cache file). Nothing outside the folder is touched: the tests point
KRB5_CONFIG, KRB5CCNAME and friends at it. Stopped with the process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REALM = "RFR.TEST"
SERVICE = "HTTP/localhost"  # what requests-gssapi asks for at https://localhost:…
CLIENT = "svc-rfr"
MASTER_PASSWORD = "kdc-master-secret"  # a throwaway test realm
TOOLS = ("/usr/sbin/krb5kdc", "/usr/sbin/kdb5_util", "/usr/sbin/kadmin.local", "/usr/bin/kinit")


def available() -> str:
    """'' when the KDC can run here and python-gssapi imports; else what is missing, in words."""
    missing = [tool for tool in TOOLS if not Path(tool).exists()]
    if missing:
        return "missing " + ", ".join(missing) + " (apt-get install krb5-kdc krb5-admin-server krb5-user)"
    try:
        import gssapi  # noqa: F401
        import requests_gssapi  # noqa: F401
    except ImportError as exc:
        return f"the kerberos extra is not installed ({exc})"
    return ""


def _free_port() -> int:
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        port = tcp.getsockname()[1]
        udp.bind(("127.0.0.1", port))  # the KDC listens on both
        return port


class Kdc:
    def __init__(self, folder: Path):
        self.folder = folder
        self.port = _free_port()
        self.conf = folder / "krb5.conf"
        self.kdc_conf = folder / "kdc.conf"
        self.service_keytab = folder / "http.keytab"
        self.client_keytab = folder / "svc-rfr.keytab"
        self.process: subprocess.Popen | None = None

    @property
    def env(self) -> dict[str, str]:
        """The variables that point MIT Kerberos at this realm only (and keep no replay cache)."""
        return {
            "KRB5_CONFIG": str(self.conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
            "KRB5RCACHETYPE": "none",
            "KRB5_TRACE": str(self.folder / "trace.log"),
        }

    def _run(self, *args: str) -> str:
        done = subprocess.run(
            args, env={**os.environ, **self.env}, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr or done.stdout}")
        return done.stdout

    def start(self) -> Kdc:
        database = self.folder / "db"
        database.mkdir()
        self.conf.write_text(
            "[libdefaults]\n"
            f"  default_realm = {REALM}\n"
            "  dns_lookup_kdc = false\n  dns_lookup_realm = false\n"
            "  dns_canonicalize_hostname = false\n  rdns = false\n"
            "  udp_preference_limit = 1\n"  # TCP: one connection per request, no datagram retries
            f"[realms]\n  {REALM} = {{\n    kdc = 127.0.0.1:{self.port}\n  }}\n"
            f"[domain_realm]\n  localhost = {REALM}\n"
        )
        self.kdc_conf.write_text(
            f"[kdcdefaults]\n  kdc_ports = {self.port}\n  kdc_tcp_ports = {self.port}\n"
            f"[realms]\n  {REALM} = {{\n"
            f"    database_name = {database / 'principal'}\n"
            f"    key_stash_file = {database / 'stash'}\n"
            f"    acl_file = {self.folder / 'kadm5.acl'}\n"
            "    max_life = 1h\n  }\n"
            f"[logging]\n  kdc = FILE:{self.folder / 'kdc.log'}\n"
        )
        (self.folder / "kadm5.acl").write_text("")
        self._run("/usr/sbin/kdb5_util", "create", "-s", "-r", REALM, "-P", MASTER_PASSWORD)
        for principal, keytab in ((SERVICE, self.service_keytab), (CLIENT, self.client_keytab)):
            self._run("/usr/sbin/kadmin.local", "-r", REALM, "-q", f"addprinc -randkey {principal}")
            self._run("/usr/sbin/kadmin.local", "-r", REALM, "-q", f"ktadd -k {keytab} {principal}")
        self.process = subprocess.Popen(
            ["/usr/sbin/krb5kdc", "-n", "-r", REALM],
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            if self.process.poll() is not None:
                raise RuntimeError(f"krb5kdc exited: {(self.folder / 'kdc.log').read_text()}")
            time.sleep(0.05)
        raise RuntimeError("krb5kdc did not listen within 20 s")

    def ticket(self, cache: Path) -> Path:
        """The service account's ticket in ``cache`` (kinit with its keytab), as an admin's job makes it."""
        self._run("/usr/bin/kinit", "-k", "-t", str(self.client_keytab), "-c", f"FILE:{cache}", CLIENT)
        return cache

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
