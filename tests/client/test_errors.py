"""The exception tree and bad input: every failure is a typed ``EtcdError``, quickly, never a hang."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from etcdkit.api import errors as wire
from etcdkit.client import (
    AsyncClient,
    ClientClosedError,
    ClusterError,
    CompactedError,
    DeadlineExceededError,
    EtcdError,
    MessageTooLargeError,
    NoLeaderError,
    RequestCanceledError,
    RequestTooLargeError,
    ServerCanceledError,
    ServerDeadlineExceededError,
    ServerError,
    ServerUnavailableError,
    TLSConfig,
    UnavailableError,
    UnknownServerError,
)
from etcdkit.client._transport import map_rpc_error
from etcdkit.client.server_errors import error_for_message, server_error_classes
from etcdkit.testing import ServerProcess, free_port
from tests.client.conftest import run


def test_every_catalogue_message_has_exactly_one_class() -> None:
    classes = server_error_classes()
    assert set(classes) == {w.message for w in wire.CATALOGUE}
    for message, cls in classes.items():
        assert cls.wire is not None and cls.wire.message == message
        err = error_for_message(message, "ep")
        assert type(err) is cls and isinstance(err, ServerError) and isinstance(err, EtcdError)
    assert len(set(classes.values())) == len(classes)
    assert isinstance(error_for_message("etcdserver: no leader"), NoLeaderError)
    assert isinstance(error_for_message("etcdserver: no leader"), ServerUnavailableError)
    assert type(error_for_message("something else")) is UnknownServerError


class _FakeRpcError(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        (grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded", DeadlineExceededError),
        (grpc.StatusCode.CANCELLED, "Cancelled", RequestCanceledError),
        (grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", UnavailableError),
        (grpc.StatusCode.OUT_OF_RANGE, wire.COMPACTED.message, CompactedError),
        (grpc.StatusCode.CANCELLED, wire.CANCELED.message, ServerCanceledError),
        (grpc.StatusCode.DEADLINE_EXCEEDED, wire.DEADLINE_EXCEEDED.message, ServerDeadlineExceededError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, "Sent message larger than max (3 vs. 2)", MessageTooLargeError),
        (grpc.StatusCode.INTERNAL, "boom", UnknownServerError),
    ],
)
def test_grpc_status_mapping(code: grpc.StatusCode, details: str, expected: type[EtcdError]) -> None:
    err = map_rpc_error(_FakeRpcError(code, details), "ep:1")
    assert type(err) is expected
    # Timeouts and cancellations never masquerade as each other.
    assert isinstance(err, DeadlineExceededError) != isinstance(err, RequestCanceledError) or not (
        isinstance(err, DeadlineExceededError | RequestCanceledError)
    )
    if isinstance(err, DeadlineExceededError):
        assert isinstance(err, TimeoutError) and not isinstance(err, RequestCanceledError)


def test_all_endpoints_dead_gives_cluster_error_quickly() -> None:
    dead = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]

    async def body() -> None:
        async with AsyncClient(endpoints=dead, dial_timeout=2.0) as c:
            t0 = time.monotonic()
            with pytest.raises(ClusterError) as ei:
                await c.get(b"k")
            assert set(ei.value.errors) == set(dead)
            assert all(isinstance(e, UnavailableError) for e in ei.value.errors.values())
            assert time.monotonic() - t0 < 4.5
            with pytest.raises(ClusterError):
                await c.put(b"k", b"v")  # never sent anywhere: tried on both

    run(body())


@pytest.fixture
def garbage_server() -> Iterator[str]:
    """A TCP server that answers every connection with HTTP/1.1 garbage and closes it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    t = threading.Thread(target=serve, name="garbage-server")
    t.start()
    try:
        yield f"127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        t.join(5)
        srv.close()


def test_non_etcd_server_fails_fast(garbage_server: str) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[garbage_server], dial_timeout=2.0) as c:
            t0 = time.monotonic()
            with pytest.raises(EtcdError):
                await c.get(b"k")
            assert time.monotonic() - t0 < 5

    run(body())


def test_tls_mismatch_fails_fast(endpoint: str, tmp_path: Path) -> None:
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost"),
        ],
        check=True,
        capture_output=True,
    )

    async def body() -> None:
        tls = TLSConfig(ca_file=str(cert))
        async with AsyncClient(endpoints=[endpoint], tls=tls, dial_timeout=2.0) as c:
            t0 = time.monotonic()
            with pytest.raises(UnavailableError):
                await c.get(b"k")
            assert time.monotonic() - t0 < 5

    run(body())


def test_oversize_values(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            with pytest.raises(MessageTooLargeError):
                await c.put(prefix + b"big", b"x" * (3 * 1024 * 1024))  # over our 2 MiB send limit
            with pytest.raises(RequestTooLargeError):
                await c.put(prefix + b"big", b"x" * (1024 * 1024 + 700 * 1024))  # over etcd's 1.5 MiB
            assert (await c.get(prefix + b"big")).kvs == ()

    run(body())


def test_closed_client_raises_at_once(endpoint: str) -> None:
    async def body() -> None:
        c = AsyncClient(endpoints=[endpoint])
        await c.put(b"closed-test", b"1")
        await c.close()
        await c.close()  # idempotent
        with pytest.raises(ClientClosedError):
            await c.get(b"closed-test")
        with pytest.raises(ClientClosedError):
            await c.watch(b"closed-test")

    run(body())


def test_deadline_versus_cancellation(make_server: Callable[..., ServerProcess]) -> None:
    srv = make_server()

    async def body() -> None:
        async with AsyncClient(endpoints=[srv.endpoint], request_timeout=0.5) as c:
            await c.put(b"k", b"v")  # connected
            srv.pause()
            try:
                t0 = time.monotonic()
                with pytest.raises(DeadlineExceededError) as ei:
                    await c.get(b"k")
                assert not isinstance(ei.value, RequestCanceledError)
                assert 0.4 < time.monotonic() - t0 < 3
                task = asyncio.ensure_future(c.get(b"k", timeout=30))
                await asyncio.sleep(0.2)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task  # the caller's own cancel is not wrapped
            finally:
                srv.resume()
            assert (await c.get(b"k")).value == b"v"

    run(body())
