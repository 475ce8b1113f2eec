"""TLS flags (--cacert/--cert/--key/--insecure-skip-tls-verify, https:// endpoints) against an etcd serving TLS."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from etcdkit.testing import EtcdProcess
from tests.e2e.ctl_harness import Tools, assert_same


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    d = tmp_path_factory.mktemp("certs")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=etcdkit-test-ca", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                 f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    return d


@pytest.fixture(scope="module")
def tls_tools(certs: Path) -> Iterator[Tools]:
    if EtcdProcess.binary() is None:
        pytest.skip("etcd not installed")
    proc = EtcdProcess(extra_args=[])
    url = f"https://{proc.endpoint}"
    proc.extra_args = [f"--listen-client-urls={url}", f"--advertise-client-urls={url}",
                       f"--cert-file={certs / 'server.pem'}", f"--key-file={certs / 'server.key'}",
                       f"--trusted-ca-file={certs / 'ca.pem'}", "--client-cert-auth"]
    with proc:
        yield Tools(url)


def test_tls_with_client_certs(tls_tools: Tools, certs: Path) -> None:
    flags = [f"--cacert={certs / 'ca.pem'}", f"--cert={certs / 'client.pem'}", f"--key={certs / 'client.key'}"]
    assert tls_tools.run("etcdctl", [*flags, "put", "tls/k", "v"]).rc == 0
    assert_same(*tls_tools.pair([*flags, "get", "tls/k", "-w", "json"]))
    assert_same(*tls_tools.pair([*flags, "endpoint", "health"]), lambda x: x.split(b"took")[0])


def test_tls_without_client_cert_fails(tls_tools: Tools, certs: Path) -> None:
    a, b = tls_tools.pair([f"--cacert={certs / 'ca.pem'}", "--command-timeout=2s", "get", "tls/k"])
    assert a.rc != 0 and b.rc != 0
    assert b"Traceback" not in b.stderr


def test_tls_skip_verify(tls_tools: Tools, certs: Path) -> None:
    flags = ["--insecure-skip-tls-verify", f"--cert={certs / 'client.pem'}", f"--key={certs / 'client.key'}"]
    a, b = tls_tools.pair([*flags, "get", "tls/k"])
    assert a.rc == 0, a
    assert_same(a, b)
