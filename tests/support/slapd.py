"""A private OpenLDAP slapd (Debian's slapd package) on a free loopback port, with two people and two groups.

No system configuration is touched: slapd.conf, the database and the pid file live in a temp dir.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support import daemons
from tests.support.ports import free_port

SUFFIX = "dc=example,dc=org"
ADMIN_DN, ADMIN_PW = f"cn=admin,{SUFFIX}", "adminpw"
PASSWORDS = {"alice": "alicepw", "bob": "bobpw"}

LDIF = f"""dn: {SUFFIX}
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,{SUFFIX}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups
""" + "".join(
    f"""
dn: uid={uid},ou=people,{SUFFIX}
objectClass: inetOrgPerson
objectClass: posixAccount
uid: {uid}
cn: {uid.title()}
sn: {uid.title()}
uidNumber: {2001 + i}
gidNumber: 3001
homeDirectory: /home/{uid}
userPassword: {pw}
"""
    for i, (uid, pw) in enumerate(PASSWORDS.items())
) + f"""
dn: cn=researchers,ou=groups,{SUFFIX}
objectClass: groupOfNames
cn: researchers
member: uid=alice,ou=people,{SUFFIX}
member: uid=bob,ou=people,{SUFFIX}

dn: cn=hubadmins,ou=groups,{SUFFIX}
objectClass: posixGroup
cn: hubadmins
gidNumber: 3001
memberUid: alice
"""


def available() -> bool:
    return Path("/usr/sbin/slapd").exists() and shutil.which("slapadd") is not None


class Slapd:
    def __init__(self, workdir: Path, tls: bool = False) -> None:
        self.dir = workdir
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.tls_port = free_port() if tls else 0
        self.ldaps_url = f"ldaps://127.0.0.1:{self.tls_port}"
        self.ca_file = self.dir / "cert.pem"
        self.proc: subprocess.Popen[bytes] | None = None

    def _tls_config(self) -> str:
        """A self-signed certificate for 127.0.0.1 (its own CA file), made with openssl."""
        if not self.tls_port:
            return ""
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(self.dir / "key.pem"),
                        "-out", str(self.ca_file)], check=True, capture_output=True, timeout=30)  # fmt: skip
        return f"TLSCertificateFile {self.ca_file}\nTLSCertificateKeyFile {self.dir / 'key.pem'}\n"

    def start(self) -> None:
        (self.dir / "db").mkdir(parents=True, exist_ok=True)
        conf = self.dir / "slapd.conf"
        conf.write_text(
            "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in ("core", "cosine", "inetorgperson", "nis"))
            + f"\n{self._tls_config()}pidfile {self.dir}/slapd.pid\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\ndatabase mdb\n"
            f'maxsize 104857600\nsuffix "{SUFFIX}"\nrootdn "{ADMIN_DN}"\nrootpw {ADMIN_PW}\n'
            f"directory {self.dir}/db\nindex objectClass eq\nindex uid eq\n"
            "access to attrs=userPassword by self write by anonymous auth by * none\naccess to * by * read\n"
        )
        (self.dir / "data.ldif").write_text(LDIF)
        subprocess.run(["slapadd", "-f", str(conf), "-l", str(self.dir / "data.ldif")], check=True,
                       capture_output=True, timeout=30)  # fmt: skip
        urls = f"{self.url}/" + (f" {self.ldaps_url}/" if self.tls_port else "")
        argv = ["/usr/sbin/slapd", "-d", "0", "-f", str(conf), "-h", urls]
        self.proc = daemons.start("slapd", argv, self._answers, 15, "slapd to answer")

    def _answers(self) -> bool:
        result = subprocess.run(["ldapwhoami", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PW],
                                capture_output=True, timeout=5)  # fmt: skip
        return result.returncode == 0

    def stop(self) -> None:
        daemons.stop(self.proc)
