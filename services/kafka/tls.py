"""The local cluster's TLS material: a private CA and a broker certificate, made on first start.

Clients trust `ca.pem` (kafka-python's `ssl_cafile`, kcat's `ssl.ca.location`); the broker presents
`broker.pem` (its key and certificate chain, a PEM keystore Kafka reads directly) on the SASL_SSL
listener and, with client authentication required, on the controller listener, where its certificate's
common name is its principal (`User:broker`). The CA key stays beside them (0600): it signs nothing else,
and a new broker certificate can be issued from it without making every client trust a new CA.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from services.kafka.credentials import write_private

BROKER_COMMON_NAME = "broker"  # the broker's principal on the controller listener (mutual TLS)
VALIDITY = dt.timedelta(days=3650)


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path  # what clients trust
    ca_key: Path
    broker_keystore: Path  # the broker's private key followed by its certificate and the CA's

    @classmethod
    def under(cls, directory: Path) -> TlsFiles:
        return cls(directory / "ca.pem", directory / "ca.key", directory / "broker.pem")

    def exist(self) -> bool:
        return self.ca_cert.exists() and self.ca_key.exists() and self.broker_keystore.exists()


def ensure_tls(directory: Path, dns_names: Sequence[str] = ()) -> TlsFiles:
    """The CA and broker certificate under `directory`, created when missing (idempotent).

    The broker certificate is valid for localhost and 127.0.0.1, and for `dns_names` besides (the host
    name clients use elsewhere, e.g. `kafka` in deploy/compose). Existing files are kept as they are.
    """
    files = TlsFiles.under(directory)
    if files.exist():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Six Cities Matchmaker local CA")])
    now = dt.datetime.now(dt.UTC)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )  # key_cert_sign, crl_sign
        .sign(ca_key, hashes.SHA256())
    )
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BROKER_COMMON_NAME)]))
        .issuer_name(ca_name)
        .public_key(broker_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    *(x509.DNSName(name) for name in dns_names),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    write_private(files.ca_key, _pkcs8(ca_key))
    write_private(files.broker_keystore, _pkcs8(broker_key) + _pem(broker_cert) + _pem(ca_cert))
    files.ca_cert.write_bytes(_pem(ca_cert))
    return files


def _pkcs8(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Kafka's PEM keystore reads PKCS#8 keys only."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
