"""The local cluster's TLS material: a CA clients can trust and a broker certificate for 127.0.0.1."""

from __future__ import annotations

import ipaddress
import stat

from cryptography import x509

from services.kafka.tls import ensure_tls


def test_the_broker_certificate_chains_to_the_ca_and_names_the_loopback_address(tmp_path):
    files = ensure_tls(tmp_path / "tls")
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    chain = x509.load_pem_x509_certificates(files.broker_keystore.read_bytes())
    broker = chain[0]
    broker.verify_directly_issued_by(ca)
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    assert broker.subject.rfc4514_string() == "CN=broker"  # its principal on the controller listener
    assert b"PRIVATE KEY" in files.broker_keystore.read_bytes()  # PKCS#8, as Kafka's PEM keystore reads


def test_private_keys_are_readable_by_the_owner_only_and_made_once(tmp_path):
    files = ensure_tls(tmp_path / "tls")
    for private in (files.ca_key, files.broker_keystore):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    before = files.ca_cert.read_bytes()
    assert ensure_tls(tmp_path / "tls").ca_cert.read_bytes() == before  # idempotent: clients keep trusting it


def test_more_host_names_go_into_the_broker_certificate_when_asked_for(tmp_path):
    default = ensure_tls(tmp_path / "default")
    compose = ensure_tls(tmp_path / "compose", dns_names=["kafka"])

    def dns_names(files) -> list[str]:
        broker = x509.load_pem_x509_certificates(files.broker_keystore.read_bytes())[0]
        names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return names.get_values_for_type(x509.DNSName)

    assert dns_names(default) == ["localhost"]
    assert dns_names(compose) == ["localhost", "kafka"]
