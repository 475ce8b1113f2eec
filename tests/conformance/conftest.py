"""Fixtures for the conformance suite: one real etcd and one etcdkit server per
session (plus fresh pairs for cases that ask), and the case-pair runner."""

from __future__ import annotations

import os
from collections.abc import Iterator

import grpc
import pytest

from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess

TARGETS = tuple(t for t in os.environ.get("ETCDKIT_CONFORMANCE_TARGETS", "etcd,etcdkit").split(",") if t)


def _require_etcd() -> None:
    if EtcdProcess.binary() is None:
        if os.environ.get("ETCDKIT_REQUIRE_ETCD"):
            pytest.fail("real etcd is required (apt-get install -y etcd-server etcd-client)")
        pytest.skip("real etcd is not installed (apt-get install -y etcd-server etcd-client)")


def start_target(name: str, extra_args: tuple[str, ...] = ()) -> ServerProcess:
    if name == "etcd":
        _require_etcd()
        return EtcdProcess(extra_args=list(extra_args)).start()
    if name == "etcdkit":
        return EtcdkitProcess(extra_args=list(extra_args)).start()
    raise ValueError(name)


@pytest.fixture(scope="session")
def shared_servers() -> Iterator[dict[str, ServerProcess]]:
    servers: dict[str, ServerProcess] = {}
    try:
        for name in TARGETS:
            servers[name] = start_target(name)
        yield servers
    finally:
        for s in servers.values():
            s.cleanup()


@pytest.fixture(scope="session")
def channels(shared_servers: dict[str, ServerProcess]) -> Iterator[dict[str, grpc.Channel]]:
    chans = {name: grpc.insecure_channel(s.endpoint) for name, s in shared_servers.items()}
    yield chans
    for ch in chans.values():
        ch.close()
