"""Fixtures for the recipe tests: every test runs against real etcd AND etcdkit's server.

The server fixtures (``target``, ``server``, ``endpoint``, ``make_server``) and the
leak checks are the client suite's (``tests/client/conftest.py``), so both suites
start, share and stop servers the same way. Added here:

* ``client``: a blocking client per test;
* ``arun``: run an async test body on a fresh loop, checking no task was left running;
* ``prefix``: a key prefix unique to the test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from etcdkit.client import Client
from etcdkit.recipes import Session
from tests.client.conftest import (
    endpoint,
    make_server,
    no_leaked_client_threads,
    server,
    target,
)
from tests.client.conftest import run as arun

__all__ = ["arun", "endpoint", "make_server", "no_leaked_client_threads", "server", "target"]


@pytest.fixture
def client(endpoint: str) -> Iterator[Client]:
    with Client(endpoints=[endpoint]) as c:
        yield c


_counter = iter(range(10**9))


@pytest.fixture
def two_sessions(endpoint: str) -> Iterator[tuple[Session, Session]]:
    """Two sessions (TTL 30 s) on two blocking clients of their own: the second's client loop
    thread can be blocked without touching the first."""
    with (
        Client(endpoints=[endpoint]) as c1,
        Client(endpoints=[endpoint]) as c2,
        Session(c1, ttl=30) as s1,
        Session(c2, ttl=30) as s2,
    ):
        yield s1, s2


@pytest.fixture
def prefix() -> bytes:
    """A key prefix unique to the test, so tests sharing a server do not collide."""
    return f"/r{next(_counter)}-{os.getpid()}/".encode()
