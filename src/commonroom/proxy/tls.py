"""TLS contexts from CHP's --ssl-*, --api-ssl-* and --client-ssl-* flags."""

from __future__ import annotations

import ssl

from .options import TlsFiles


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """For a listening side; asks for (and with reject_unauthorized requires) client certificates."""
    if files.cert is None or files.key is None:
        raise ValueError("TLS on a listening port needs both a certificate and a key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)
    if files.ca is not None:
        context.load_verify_locations(files.ca)
    if files.request_cert:
        context.verify_mode = ssl.CERT_REQUIRED if files.reject_unauthorized else ssl.CERT_OPTIONAL
    return context


def client_context(files: TlsFiles, insecure: bool) -> ssl.SSLContext:
    """For connections to https backends: the given CA replaces the system ones, as in Node."""
    context = ssl.create_default_context(cafile=str(files.ca) if files.ca is not None else None)
    if files.cert is not None:
        context.load_cert_chain(files.cert, files.key)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
