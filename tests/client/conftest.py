"""Fixtures for the client suite, written against an ``endpoint`` so the same
tests run against real etcd and, when enabled, against etcdkit's own server.

* ``target``: "etcd" and "etcdkit" unless ``ETCDKIT_CLIENT_TARGETS`` narrows
  them (e.g. ``ETCDKIT_CLIENT_TARGETS=etcd``);
* ``server``/``endpoint``: one shared server per module and target;
* ``make_server``: fresh servers for fault tests (restart, pause, compaction),
  stopped at teardown;
* every test checks that no client thread or task was left behind.
"""

from __future__ import annotations

import asyncio
import io
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess, wait_until

T = TypeVar("T")
ENABLED = tuple(t for t in os.environ.get("ETCDKIT_CLIENT_TARGETS", "etcd,etcdkit").split(",") if t)


def _start(name: str, extra_args: tuple[str, ...] = ()) -> ServerProcess:
    if name not in ENABLED:
        pytest.skip(f"target {name} not enabled (set ETCDKIT_CLIENT_TARGETS to include it)")
    if name == "etcd":
        if EtcdProcess.binary() is None:
            pytest.skip("real etcd is not installed")
        return EtcdProcess(extra_args=list(extra_args)).start()
    return EtcdkitProcess(extra_args=list(extra_args)).start()


@pytest.fixture(scope="module", params=["etcd", "etcdkit"])
def target(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name not in ENABLED:
        pytest.skip(f"target {name} not enabled (set ETCDKIT_CLIENT_TARGETS to include it)")
    return name


@pytest.fixture(scope="module")
def server(target: str) -> Iterator[ServerProcess]:
    srv = _start(target)
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def endpoint(server: ServerProcess) -> str:
    return server.endpoint


@pytest.fixture
def make_server(target: str) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []

    def make(*extra_args: str) -> ServerProcess:
        srv = _start(target, extra_args)
        started.append(srv)
        return srv

    try:
        yield make
    finally:
        for s in started:
            s.cleanup()


def run(coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
    """Run one async test body on a fresh loop (bounded in time) and check it left no task running."""

    async def checked() -> T:
        body = asyncio.ensure_future(coro)
        done, _ = await asyncio.wait([body], timeout=timeout)
        if not done:
            stacks = io.StringIO()
            for t in asyncio.all_tasks():
                frames = " <- ".join(f"{f.f_code.co_name}:{f.f_lineno}" for f in t.get_stack(limit=8))
                print(f"{t.get_name()}: {frames}", file=stacks)
            body.cancel()
            raise AssertionError(f"test body still running after {timeout}s; tasks:\n{stacks.getvalue()}")
        result = body.result()
        me = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if leftovers:  # grpc's per-call status tasks may take a moment to see the channel close
            await asyncio.wait(leftovers, timeout=3.0)
            leftovers = [t for t in leftovers if not t.done()]
        assert not leftovers, f"tasks left running: {leftovers}"
        return result

    return asyncio.run(checked())


@pytest.fixture(autouse=True)
def no_leaked_client_threads() -> Iterator[None]:
    yield
    leaked = [t for t in threading.enumerate() if t.name == "etcdkit-client-loop" and t.is_alive()]
    assert not leaked, f"client loop threads left running: {leaked}"


_counter = iter(range(10**9))


@pytest.fixture
def prefix() -> bytes:
    """A key prefix unique to the test, so tests sharing a server do not collide."""
    return f"/t{next(_counter)}-{os.getpid()}/".encode()


def pause(srv: ServerProcess) -> None:
    """SIGSTOP the server and wait until the kernel reports it stopped (SIGSTOP is asynchronous)."""
    srv.pause()
    assert srv.proc is not None
    stat = f"/proc/{srv.proc.pid}/stat"

    def stopped() -> bool:
        with open(stat) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"

    wait_until(stopped, 5, interval=0.005, what="server stopped")
