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
from tests.client.conftest import pause, run


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
            pause(srv)
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


def test_go_status_text_in_cancel_reasons_is_understood() -> None:
    from etcdkit.client import InvalidAuthTokenError

    err = error_for_message("rpc error: code = Unauthenticated desc = etcdserver: invalid auth token")
    assert isinstance(err, InvalidAuthTokenError)


def _transport_with_fake_endpoints() -> tuple[object, list[str]]:
    from etcdkit.client import ClientConfig
    from etcdkit.client._transport import Transport

    tr = Transport(ClientConfig(endpoints=("a:1", "b:2")), lambda state: None)
    used: list[str] = []

    async def ready(endpoint: str, timeout: float) -> object:
        used.append(endpoint)
        return object()

    tr.wait_ready = ready  # type: ignore[assignment,method-assign]
    return tr, used


def test_retry_policy_reads_writes_and_revision_floor() -> None:
    from types import SimpleNamespace

    from etcdkit.client._transport import Transport

    async def body() -> None:
        tr, used = _transport_with_fake_endpoints()
        assert isinstance(tr, Transport)

        async def sent_then_dropped(s: object, t: float | None, md: object) -> object:
            raise _FakeRpcError(grpc.StatusCode.UNAVAILABLE, "Socket closed")

        with pytest.raises(UnavailableError) as ei:
            await tr.call(sent_then_dropped, idempotent=False)
        assert not isinstance(ei.value, ClusterError) and used == ["a:1"]  # a write that may have applied
        used.clear()
        with pytest.raises(ClusterError) as ci:
            await tr.call(sent_then_dropped, idempotent=True)
        assert used == ["b:2", "a:1"] and set(ci.value.errors) == {"a:1", "b:2"}  # reads try everywhere

        used.clear()

        async def never_sent(s: object, t: float | None, md: object) -> object:
            raise _FakeRpcError(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses; last error: x")

        with pytest.raises(ClusterError):
            await tr.call(never_sent, idempotent=False)
        assert len(used) == 2  # provably unsent: even a write moves on

        used.clear()

        async def no_leader(s: object, t: float | None, md: object) -> object:
            raise _FakeRpcError(grpc.StatusCode.UNAVAILABLE, wire.NO_LEADER.message)

        with pytest.raises(NoLeaderError):
            await tr.call(no_leader, idempotent=False)
        assert len(used) == 1

        revisions = iter([10, 5, 12])

        async def answer(s: object, t: float | None, md: object) -> SimpleNamespace:
            return SimpleNamespace(revision=next(revisions))

        def rev(r: SimpleNamespace) -> int:
            return int(r.revision)

        assert (await tr.call(answer, idempotent=True, revision_of=rev)).revision == 10
        # 5 is below the floor (10): a lagging member; the read moves on and gets 12.
        assert (await tr.call(answer, idempotent=True, revision_of=rev)).revision == 12
        assert tr.floor.revision == 12
        await tr.close()

    run(body())


def test_a_read_overlapping_a_newer_answer_is_not_stale() -> None:
    """The floor a read is held to is the one it started with: a read in flight while another
    call of the same client saw a newer revision may answer from before that revision."""
    import asyncio
    from types import SimpleNamespace

    from etcdkit.client._transport import Transport

    async def body() -> None:
        tr, used = _transport_with_fake_endpoints()
        assert isinstance(tr, Transport)
        tr.floor.revision = 10
        started, release = asyncio.Event(), asyncio.Event()

        def rev(r: SimpleNamespace) -> int:
            return int(r.revision)

        async def slow_read(s: object, t: float | None, md: object) -> SimpleNamespace:
            started.set()
            await release.wait()
            return SimpleNamespace(revision=12)  # served before the write below was applied

        async def write(s: object, t: float | None, md: object) -> SimpleNamespace:
            return SimpleNamespace(revision=15)

        read = asyncio.ensure_future(tr.call(slow_read, idempotent=True, revision_of=rev))
        await started.wait()  # the read is in flight
        assert (await tr.call(write, idempotent=False, revision_of=rev)).revision == 15
        release.set()
        assert (await read).revision == 12  # accepted, on its first endpoint
        assert tr.floor.revision == 15 and used.count("a:1") == 2 and "b:2" not in used

        answers = iter([12, 16])

        async def later_read(s: object, t: float | None, md: object) -> SimpleNamespace:
            return SimpleNamespace(revision=next(answers))

        # A read that starts after 15 was seen must not answer 12: it moves on.
        assert (await tr.call(later_read, idempotent=True, revision_of=rev)).revision == 16
        await tr.close()

    run(body())


@pytest.mark.parametrize("bad", ["", "garbage", "127.0.0.1:99999", "host:", ":2379"])
def test_malformed_endpoints_are_refused_at_construction(bad: str) -> None:
    with pytest.raises(ValueError):
        AsyncClient(endpoints=[bad])


def test_config_validation() -> None:
    from etcdkit.client import ClientConfig, WatchConfig

    with pytest.raises(TypeError):
        ClientConfig(endpoints="127.0.0.1:2379")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ClientConfig(endpoints=())
    with pytest.raises(ValueError):
        ClientConfig(username="u")
    with pytest.raises(ValueError):
        TLSConfig(cert_file="c.pem")
    with pytest.raises(ValueError):
        WatchConfig(progress_interval=5, stall_timeout=5)
    cfg = ClientConfig(endpoints=("http://127.0.0.1:2379", "[::1]:2379"))
    assert cfg.endpoints == ("127.0.0.1:2379", "[::1]:2379")
