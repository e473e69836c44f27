"""A real OpenLDAP server (Debian's slapd) for tests and the benchmark.

Throwaway slapd.conf in a temporary folder, mdb backend, loopback ports only; stopped
with the process it started. The tree is AD-like: people with a uid as login name
(sAMAccountName), mail, department and phone; groups of names nested in each other.
Plain searches are capped (``size_limit``) as Active Directory caps them, so reading
more people than that needs the paged-results control.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import ldap
import ldap.modlist

SUFFIX = "dc=firma,dc=de"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "root-secret"
SERVICE_DN = f"cn=svc-rfr,ou=service,{SUFFIX}"
SERVICE_PW = "svc-secret"
SCHEMAS = ("core", "cosine", "inetorgperson")


def available() -> bool:
    return bool(shutil.which("slapd") or Path("/usr/sbin/slapd").exists()) and bool(shutil.which("ldapadd"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 (openssl), for StartTLS and LDAPS."""
    paths = {
        name: folder / f"{name}.pem" for name in ("ca", "ca-key", "cert", "key", "other-ca", "other-ca-key")
    }
    for ca, key in (("ca", "ca-key"), ("other-ca", "other-ca-key")):
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
                *("-subj", f"/CN=Test {ca}", "-keyout", paths[key], "-out", paths[ca]),
            ],
            check=True,
            capture_output=True,
        )
    csr = folder / "server.csr"
    ext = folder / "server.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(
        [
            *("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1"),
            *("-keyout", paths["key"], "-out", csr),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *("openssl", "x509", "-req", "-in", csr, "-CA", paths["ca"], "-CAkey", paths["ca-key"]),
            *("-CAcreateserial", "-days", "2", "-extfile", ext, "-out", paths["cert"]),
        ],
        check=True,
        capture_output=True,
    )
    return paths


class Slapd:
    def __init__(self, folder: Path, *, size_limit: int = 20, tls: bool = False):
        self.folder = Path(folder)
        self.size_limit = size_limit
        self.tls = tls
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.process: subprocess.Popen | None = None
        self.certs: dict[str, Path] = {}

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_uri(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def config(self) -> str:
        lines = [f"include /etc/ldap/schema/{name}.schema" for name in SCHEMAS]
        lines += [
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            f"pidfile {self.folder / 'slapd.pid'}",
            f"argsfile {self.folder / 'slapd.args'}",
            # Plain searches stop at size_limit, paged ones may read everything.
            f"sizelimit size.soft={self.size_limit} size.hard={self.size_limit} size.prtotal=unlimited",
        ]
        if self.tls:
            lines += [
                f"TLSCACertificateFile {self.certs['ca']}",
                f"TLSCertificateFile {self.certs['cert']}",
                f"TLSCertificateKeyFile {self.certs['key']}",
            ]
        lines += [
            "database mdb",
            "maxsize 1073741824",
            f'suffix "{SUFFIX}"',
            f'rootdn "{ROOT_DN}"',
            f"rootpw {ROOT_PW}",
            f"directory {self.folder / 'db'}",
            "index objectClass eq",
            "index uid eq",
            "index member eq",
            "index entryUUID eq",
            "access to attrs=userPassword by anonymous auth by self write by * none",
            f'access to * by dn.exact="{SERVICE_DN}" read by self read by * none',
        ]
        return "\n".join(lines) + "\n"

    def start(self) -> Slapd:
        (self.folder / "db").mkdir(parents=True, exist_ok=True)
        if self.tls and not self.certs:
            self.certs = make_certificates(self.folder)
        conf = self.folder / "slapd.conf"
        conf.write_text(self.config())
        urls = self.uri + (f" {self.ldaps_uri}" if self.tls else "")
        slapd = shutil.which("slapd") or "/usr/sbin/slapd"
        # -d 0: stay in the foreground (our child, stopped by us) without debug output.
        self.process = subprocess.Popen(
            [slapd, "-f", str(conf), "-h", urls, "-d", "0"],
            stdout=open(self.folder / "slapd.log", "ab"),  # noqa: SIM115 - the child keeps it
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.admin().unbind_s()
                break
            except ldap.SERVER_DOWN:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.folder / "slapd.log").read_text(errors="replace")
                    raise RuntimeError(f"slapd did not start:\n{log}") from None
                time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.resume()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def pause(self) -> None:
        """Freeze slapd: connections are accepted by the kernel but never answered."""
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)

    def admin(self) -> ldap.ldapobject.LDAPObject:
        conn = ldap.initialize(self.uri)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
        conn.simple_bind_s(ROOT_DN, ROOT_PW)
        return conn

    # Writing the tree.

    def ldapadd(self, ldif: str) -> None:
        """Load LDIF with the ldapadd tool, as an administrator would."""
        subprocess.run(
            ["ldapadd", "-x", "-H", self.uri, "-D", ROOT_DN, "-w", ROOT_PW],
            input=ldif.encode(),
            check=True,
            capture_output=True,
        )

    def add(self, dn: str, attrs: dict[str, list[str] | str]) -> None:
        entry = {k: [v.encode() for v in ([vs] if isinstance(vs, str) else vs)] for k, vs in attrs.items()}
        conn = self.admin()
        try:
            conn.add_s(dn, ldap.modlist.addModlist(entry))
        finally:
            conn.unbind_s()

    def modify(self, dn: str, changes: list[tuple[int, str, list[str] | str | None]]) -> None:
        mods = [
            (op, attr, None if v is None else [x.encode() for x in ([v] if isinstance(v, str) else v)])
            for op, attr, v in changes
        ]
        conn = self.admin()
        try:
            conn.modify_s(dn, mods)
        finally:
            conn.unbind_s()

    def delete(self, dn: str) -> None:
        conn = self.admin()
        try:
            conn.delete_s(dn)
        finally:
            conn.unbind_s()


def base_ldif() -> str:
    """The suffix, the service account and nothing else."""
    return f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Firma GmbH
dc: firma

dn: ou=service,{SUFFIX}
objectClass: organizationalUnit
ou: service

dn: {SERVICE_DN}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: svc-rfr
userPassword: {SERVICE_PW}
"""


def ou_ldif(ou: str) -> str:
    return f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n"


def person_ldif(
    ou: str, uid: str, given: str, sn: str, *, password: str = "", extra: dict | None = None
) -> str:
    lines = [
        f"dn: uid={uid},ou={ou},{SUFFIX}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {given} {sn}",
        f"givenName: {given}",
        f"sn: {sn}",
        f"mail: {given.lower()}.{sn.lower()}@firma.de",
    ]
    if password:
        lines.append(f"userPassword: {password}")
    for attr, value in (extra or {}).items():
        lines.append(f"{attr}: {value}")
    return "\n".join(lines) + "\n"


def group_ldif(ou: str, cn: str, members: list[str]) -> str:
    lines = [f"dn: cn={cn},ou={ou},{SUFFIX}", "objectClass: groupOfNames", f"cn: {cn}"]
    lines += [f"member: {m}" for m in members]
    return "\n".join(lines) + "\n"
