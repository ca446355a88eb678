"""The server's self-signed application certificate, made once into a folder and reused after."""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .model import OpcUaError

CERT_NAME = "server_cert.der"
KEY_NAME = "server_key.pem"
VALID_DAYS = 3650  # an application instance certificate; a line runs for years


@dataclass(frozen=True)
class CertificatePair:
    """Paths of a DER certificate and its unencrypted PEM private key."""

    cert: Path
    key: Path


def ensure_certificate(
    folder: Path,
    application_uri: str,
    *,
    hosts: tuple[str, ...] = (),
    common_name: str = "LineStation",
    cert_name: str = CERT_NAME,
    key_name: str = KEY_NAME,
) -> CertificatePair:
    """Return the certificate in `folder`, making a self-signed one at first use.

    The certificate names `application_uri` in its subjectAltName (OPC 10000-6 6.2.2: clients check
    it against the server's ApplicationUri), plus `hosts` (names or IP addresses) and this machine's
    host name. An existing pair is kept as it is, so clients that trusted it keep trusting it.
    """
    folder = Path(folder)
    pair = CertificatePair(folder / cert_name, folder / key_name)
    if pair.cert.exists() and pair.key.exists():
        return pair
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = _self_signed(key, application_uri, (*hosts, socket.gethostname()), common_name)
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        _write_private(pair.key, key_pem)
        pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    except OSError as exc:
        raise OpcUaError(
            f"cannot write the server certificate ({exc.strerror or exc})",
            str(folder),
            "give [opcua] certificate_dir a folder the station may write to",
        ) from exc
    return pair


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _alt_names(application_uri: str, hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    """The URI first, then each host once, as an IP address where it parses as one."""
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(application_uri)]
    seen: set[str] = set()
    for host in hosts:
        if not host or host in seen:
            continue
        seen.add(host)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            names.append(x509.DNSName(host))
            continue
        if not ip.is_unspecified:  # 0.0.0.0 means "all interfaces", no address to name
            names.append(x509.IPAddress(ip))
    return names


def _self_signed(
    key: rsa.RSAPrivateKey, application_uri: str, hosts: tuple[str, ...], common_name: str
) -> x509.Certificate:
    """An OPC UA application instance certificate signed by its own key."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "LineStation"),
        ]
    )
    now = datetime.now(UTC)
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate a client clock a little behind
        .not_valid_after(now + timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .add_extension(x509.SubjectAlternativeName(_alt_names(application_uri, hosts)), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,  # self-signed: the key signs its own certificate
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    return builder.sign(key, hashes.SHA256())
