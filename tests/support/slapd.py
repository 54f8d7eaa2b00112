"""A private OpenLDAP slapd (Debian's slapd package) on a free loopback port, with two people and two groups.

No system configuration is touched: slapd.conf, the database and the pid file live in a temp dir.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support import daemons
from tests.support.hubprocess import FIXTURE_PROCESSES, wait_for
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
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.dir / "db").mkdir(parents=True, exist_ok=True)
        conf = self.dir / "slapd.conf"
        conf.write_text(
            "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in ("core", "cosine", "inetorgperson", "nis"))
            + f"\npidfile {self.dir}/slapd.pid\nmodulepath /usr/lib/ldap\nmoduleload back_mdb\ndatabase mdb\n"
            f'maxsize 104857600\nsuffix "{SUFFIX}"\nrootdn "{ADMIN_DN}"\nrootpw {ADMIN_PW}\n'
            f"directory {self.dir}/db\nindex objectClass eq\nindex uid eq\n"
            "access to attrs=userPassword by self write by anonymous auth by * none\naccess to * by * read\n"
        )
        (self.dir / "data.ldif").write_text(LDIF)
        subprocess.run(["slapadd", "-f", str(conf), "-l", str(self.dir / "data.ldif")], check=True,
                       capture_output=True, timeout=30)  # fmt: skip
        self.proc = subprocess.Popen(["/usr/sbin/slapd", "-d", "0", "-f", str(conf), "-h", f"{self.url}/"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        FIXTURE_PROCESSES.add(self.proc.pid)
        wait_for(self._ready, 15, "slapd to answer")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"slapd exited with {self.proc.returncode}")
        result = subprocess.run(["ldapwhoami", "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PW],
                                capture_output=True, timeout=5)  # fmt: skip
        return result.returncode == 0

    def stop(self) -> None:
        daemons.stop(self.proc)
