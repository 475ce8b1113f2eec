"""Fixtures for the recipe tests: every test runs against real etcd AND etcdkit's server.

* ``target``: "etcd" (skipped when not installed) and "etcdkit";
* ``server``/``endpoint``: one shared server per module and target;
* ``make_server``: fresh servers for fault tests (pause, restart, compaction);
* ``client``: a blocking client per test; ``arun`` runs an async test body
  on a fresh loop and checks no task was left running;
* every test checks that no client loop thread was left behind.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from etcdkit.client import Client
from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess

T = TypeVar("T")


def start_server(name: str) -> ServerProcess:
    if name == "etcd":
        if EtcdProcess.binary() is None:
            pytest.skip("real etcd is not installed")
        return EtcdProcess().start()
    return EtcdkitProcess().start()


@pytest.fixture(scope="module", params=["etcd", "etcdkit"])
def target(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def server(target: str) -> Iterator[ServerProcess]:
    srv = start_server(target)
    try:
        yield srv
    finally:
        srv.cleanup()


@pytest.fixture(scope="module")
def endpoint(server: ServerProcess) -> str:
    return server.endpoint


@pytest.fixture
def make_server(target: str) -> Iterator[Callable[[], ServerProcess]]:
    started: list[ServerProcess] = []

    def make() -> ServerProcess:
        srv = start_server(target)
        started.append(srv)
        return srv

    try:
        yield make
    finally:
        for s in started:
            s.cleanup()


@pytest.fixture
def client(endpoint: str) -> Iterator[Client]:
    with Client(endpoints=[endpoint]) as c:
        yield c


def arun(coro: Coroutine[Any, Any, T]) -> T:
    """Run one async test body on a fresh loop and check it left no task running."""

    async def checked() -> T:
        result = await coro
        me = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
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
    return f"/r{next(_counter)}-{os.getpid()}/".encode()
