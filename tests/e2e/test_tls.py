"""``dfr serve --tls-cert --tls-key`` serves HTTPS: a self-signed certificate for
127.0.0.1 made here, the real command as a subprocess, a client that trusts only that
certificate; HSTS over TLS, and plain HTTP to the port fails. A half or unreadable pair
is refused before anything starts."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.e2e.browser import PILOT_TOKEN, write_site

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 30.0


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dfr(*args: str, **popen: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DFR_TLS_CERT_FILE", None)
    env.pop("DFR_TLS_KEY_FILE", None)
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "dfr.cli", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        **popen,
    )


@pytest.fixture
def https_service(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = self_signed(tmp_path)
    port = free_tcp_port()
    site = write_site(tmp_path / "site")
    process = dfr(
        "serve", "--site", str(site), "--port", str(port), "--data-dir", str(tmp_path / "data"),
        "--token", PILOT_TOKEN, "--tls-cert", str(cert), "--tls-key", str(key),
    )  # fmt: skip
    try:
        yield f"127.0.0.1:{port}", cert
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=STARTUP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def wait_until_up(client: httpx.Client, url: str) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        try:
            return client.get(url)
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serves_https_with_hsts_and_refuses_plain_http(https_service: tuple[str, Path]) -> None:
    address, cert = https_service
    headers = {"Authorization": f"Bearer {PILOT_TOKEN}"}
    with httpx.Client(
        verify=ssl.create_default_context(cafile=cert), headers=headers, timeout=10.0
    ) as client:
        site = wait_until_up(client, f"https://{address}/api/v1/site")
        assert site.status_code == 200, site.text
        assert site.json()["name"]
        assert site.headers["strict-transport-security"].startswith("max-age=")
        page = client.get(f"https://{address}/")
        assert "strict-transport-security" in page.headers
    with httpx.Client(headers=headers, timeout=10.0) as plain, pytest.raises(httpx.TransportError):
        plain.get(f"http://{address}/api/v1/site")
    # a client that trusts only the system's CAs does not take the certificate
    with httpx.Client(headers=headers, timeout=10.0) as other, pytest.raises(httpx.ConnectError):
        other.get(f"https://{address}/api/v1/site")


def test_a_certificate_without_its_key_is_refused_before_start(tmp_path: Path) -> None:
    cert, _key = self_signed(tmp_path)
    process = dfr("serve", "--site", str(write_site(tmp_path / "site")), "--tls-cert", str(cert))
    _out, err = process.communicate(timeout=STARTUP_TIMEOUT_S)
    assert process.returncode == 2
    assert "tls_cert_file is set without its pair" in err and "--tls-key" in err


def test_an_unreadable_key_is_refused_before_start(tmp_path: Path) -> None:
    cert, _key = self_signed(tmp_path)
    process = dfr(
        "serve", "--site", str(write_site(tmp_path / "site")),
        "--tls-cert", str(cert), "--tls-key", str(tmp_path / "missing.pem"),
    )  # fmt: skip
    _out, err = process.communicate(timeout=STARTUP_TIMEOUT_S)
    assert process.returncode == 2
    assert "missing.pem cannot be read" in err and "--tls-key" in err
