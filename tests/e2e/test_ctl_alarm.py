"""Alarm output with a real NOSPACE alarm raised (etcd started with a tiny backend quota)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from etcdkit.testing import EtcdProcess
from tests.e2e.ctl_harness import Tools, assert_same, normalise_took


@pytest.fixture(scope="module")
def full_tools() -> Iterator[Tools]:
    if EtcdProcess.binary() is None:
        pytest.skip("etcd not installed")
    with EtcdProcess(extra_args=["--quota-backend-bytes=262144"]) as proc:
        tools = Tools(proc.endpoint)
        value = b"x" * 65536
        for i in range(40):  # bounded: the quota is hit after a handful of 64 KiB puts
            r = tools.run("etcdctl", ["put", f"fill/{i}"], stdin=value)
            if r.rc != 0:
                assert b"database space exceeded" in r.stderr, r
                break
        else:
            pytest.fail("NOSPACE alarm was never raised")
        yield tools


@pytest.mark.parametrize("fmt", ["simple", "json", "fields", "protobuf", "table"])
def test_alarm_list_nospace(full_tools: Tools, fmt: str) -> None:
    assert_same(*full_tools.pair(["alarm", "list", "-w", fmt]))


def test_health_and_put_under_alarm(full_tools: Tools) -> None:
    assert_same(*full_tools.pair(["endpoint", "health"]), normalise_took)
    assert_same(*full_tools.pair(["put", "more", "v"]))
    assert_same(*full_tools.pair(["endpoint", "status", "-w", "json"]))
