"""LDAP and Active Directory: a bind with the person's password, either directly to a DN made from a template
or after a service account found their entry; then their groups.

The user name is checked against the hub's name rule first (so `*)(uid=*` never reaches the directory) and is
escaped all the same wherever it goes into a DN (RFC 4514) or a filter (RFC 4515).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from ldap3.utils.dn import escape_rdn
from sqlalchemy.ext.asyncio import AsyncSession

from commonroom.auth.base import AuthenticationError, Authenticator, Identity
from commonroom.auth.names import name_problem, normalize
from commonroom.config.models import LDAPConfig

log = logging.getLogger(__name__)

WRONG = "Wrong user name or password. Check both and try again."
UNREACHABLE = "The hub cannot reach the directory to check your password right now. Try again in a minute."


def user_dn(template: str, name: str) -> str:
    return template.replace("{username}", escape_rdn(name))


def fill_filter(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", escape_filter_chars(value))
    return template


class LDAPAuthenticator(Authenticator):
    @property
    def ldap(self) -> LDAPConfig:
        return self.config.ldap

    async def authenticate(self, db: AsyncSession, form: Mapping[str, str]) -> Identity:
        name, password = normalize(form.get("username", "")), form.get("password", "")
        problem = name_problem(name)
        if problem:
            raise AuthenticationError(problem)
        if not password:
            raise AuthenticationError("Enter your password.")
        try:
            return await asyncio.to_thread(self._sign_in, name, password)
        except LDAPException as exc:
            log.warning("LDAP error for %r: %s", name, exc)
            raise AuthenticationError(UNREACHABLE) from exc

    def _server(self) -> ldap3.Server:
        tls = None
        if self.ldap.server_url.startswith("ldaps://") or self.ldap.start_tls:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.ldap.tls_ca_file or None)
        return ldap3.Server(self.ldap.server_url, tls=tls, connect_timeout=max(1, int(self.ldap.timeout)), get_info=ldap3.NONE)

    def _connect(self, dn: str | None, password: str | None) -> ldap3.Connection | None:
        """A bound connection, or None when the directory refused the credentials."""
        conn = ldap3.Connection(self._server(), user=dn, password=password, receive_timeout=max(1, int(self.ldap.timeout)),
                                raise_exceptions=False)  # fmt: skip
        conn.open()
        if self.ldap.start_tls and not conn.start_tls():
            conn.unbind()
            raise LDAPException(f"StartTLS failed: {conn.result}")
        if not conn.bind():
            conn.unbind()
            return None
        return conn

    def _find(self, name: str) -> tuple[str, str] | None:
        """Search-then-bind: the person's DN and directory name, found with the service account."""
        service = self._connect(self.ldap.service_dn or None, self.ldap.service_password or None)
        if service is None:
            raise LDAPException("the service account's bind was refused; check auth.ldap.service_dn/password")
        try:
            service.search(self.ldap.search_base, fill_filter(self.ldap.search_filter, username=name),
                           attributes=[self.ldap.username_attribute], size_limit=2)  # fmt: skip
            entries = list(service.entries)
        finally:
            service.unbind()
        if len(entries) != 1:
            return None
        found = entries[0]
        values = found[self.ldap.username_attribute].values if self.ldap.username_attribute in found else []
        return found.entry_dn, str(values[0]) if values else name

    def _sign_in(self, name: str, password: str) -> Identity:
        if self.ldap.bind_dn_template:
            dn, directory_name = user_dn(self.ldap.bind_dn_template, name), name
        else:
            found = self._find(name)
            if found is None:
                raise AuthenticationError(WRONG)
            dn, directory_name = found
        conn = self._connect(dn, password)
        if conn is None:
            raise AuthenticationError(WRONG)
        try:
            groups = self._groups(conn, dn, directory_name)
        finally:
            conn.unbind()
        return Identity(name=normalize(directory_name), groups=groups, auth_state={"dn": dn, "groups": list(groups)})

    def _groups(self, conn: ldap3.Connection, dn: str, name: str) -> tuple[str, ...]:
        if not self.ldap.group_search_base:
            return ()
        attribute = self.ldap.group_name_attribute
        conn.search(self.ldap.group_search_base, fill_filter(self.ldap.group_filter, dn=dn, username=name),
                    attributes=[attribute])  # fmt: skip
        return tuple(sorted(str(v) for e in conn.entries if attribute in e for v in e[attribute].values))
