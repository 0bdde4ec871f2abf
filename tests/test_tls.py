"""TLS: verification on by default, a custom CA bundle, and turning verification off only explicitly."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from monotui.config import HttpSourceConfig
from monotui.providers.base import ProviderError
from monotui.providers.http_deploy import HttpDeployProvider
from monotui.simulator.server import SimulatorServer

from .conftest import make_world


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for 127.0.0.1 signed by it."""
    folder = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("monotui test CA")).issuer_name(_name("monotui test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


@pytest.fixture
def https_sim(tls_files: tuple[Path, Path, Path]) -> Iterator[SimulatorServer]:
    _, cert, key = tls_files
    with SimulatorServer(make_world(), tick_interval=None, tls=(str(cert), str(key))) as server:
        yield server


async def poll(url: str, **options: object) -> int:
    provider = HttpDeployProvider(HttpSourceConfig(name="p", kind="http", url=url, timeout=5, **options))
    try:
        result = await provider.poll()
        return len(result.rollouts or [])
    finally:
        await provider.aclose()


async def test_verification_is_on_by_default(https_sim: SimulatorServer) -> None:
    assert https_sim.url.startswith("https://")
    with pytest.raises(ProviderError) as info:
        await poll(https_sim.url)
    assert info.value.kind == "connection" and "CERTIFICATE_VERIFY_FAILED" in info.value.message


async def test_a_custom_ca_bundle_is_trusted(https_sim: SimulatorServer, tls_files: tuple[Path, Path, Path]) -> None:
    assert await poll(https_sim.url, ca_bundle=tls_files[0]) == 8


async def test_verification_off_takes_an_explicit_option(https_sim: SimulatorServer) -> None:
    assert await poll(https_sim.url, verify_tls=False) == 8
