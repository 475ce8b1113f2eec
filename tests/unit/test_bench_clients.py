"""bench/clients.py: etcdkit's cells against a real etcd count every call, and the report folds rounds honestly.

Only etcdkit's own clients (and the bare stub) run here: python-etcd3 and
aetcd need their own virtualenvs, which CI does not build. No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from etcdkit.testing import EtcdProcess

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


clients = _load("clients")
loops = _load("_loops")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with EtcdProcess() as srv:
        yield srv.endpoint


def test_keys_are_32_bytes_and_cycle() -> None:
    assert {len(clients.key(i, 1000)) for i in (0, 7, 999, 10**9)} == {32}
    assert clients.key(3, 10) == clients.key(13, 10) != clients.key(4, 10)


@pytest.mark.parametrize("client", clients.OURS)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_our_cells_count_every_call(endpoint: str, client: str, concurrency: int) -> None:
    from etcdkit import Client

    keys = 8
    put = clients.run_ours(client, "put", endpoint, concurrency, 0.2, 0.05, keys)
    get = clients.run_ours(client, "get", endpoint, concurrency, 0.2, 0.05, keys)
    for out in (put, get):
        assert out["issued"] == out["acked"] + out["errors"]
        assert out["errors"] == 0, out["first_error"]
        assert out["acked"] > 0
        assert out["p50_ms"] <= out["p99_ms"]
    with Client(endpoints=[endpoint]) as c:  # the put cell really wrote 256-byte values under 32-byte keys
        kvs = c.get(b"/bench-clients/", prefix=True).kvs
    assert len(kvs) == keys
    assert all(len(kv.key) == 32 and kv.value == clients.VALUE for kv in kvs)


@pytest.mark.parametrize("client", clients.OURS)
def test_deadline_reaches_every_call_of_our_clients(endpoint: str, client: str) -> None:
    """``--deadline`` is applied per call: one far shorter than any answer fails calls as deadlines."""
    out = clients.run_ours(client, "get", endpoint, 2, 0.2, 0.0, 8, deadline=1e-6)
    assert out["issued"] == out["acked"] + out["errors"] and out["errors"] > 0
    assert "deadline" in str(out["first_error"]).lower(), out["first_error"]
    ok = clients.run_ours(client, "get", endpoint, 2, 0.2, 0.0, 8, deadline=30.0)
    assert ok["errors"] == 0 and ok["acked"] > 0, ok["first_error"]


def test_deadline_none_means_no_deadline_for_every_client() -> None:
    none = clients._deadline_arg("none")
    assert clients._deadline_text(none) == "none" and clients._deadline_arg(clients._deadline_text(2.5)) == 2.5
    assert clients._deadline_kw(none) == {"request_timeout": None}  # etcdkit's default is 10 s: switched off
    assert clients._deadline_kw(None) == {} and clients._deadline_kw(3.0) == {"request_timeout": 3.0}
    assert clients._stub_timeout(none) is None and clients._stub_timeout(3.0) == 3.0
    assert clients._other_deadline(none) == clients._other_deadline(None) == "default"  # their own default: none
    assert clients._other_deadline(3.0) == "3.0"


@pytest.mark.parametrize("client", clients.OURS)
def test_our_cells_run_without_a_deadline(endpoint: str, client: str) -> None:
    out = clients.run_ours(client, "get", endpoint, 2, 0.2, 0.0, 8, deadline=clients.NO_DEADLINE)
    assert out["errors"] == 0 and out["acked"] > 0, out["first_error"]


@pytest.mark.parametrize("client", clients.OURS)
def test_our_watch_cells_deliver_every_acknowledged_put(endpoint: str, client: str) -> None:
    out = clients.run_ours(client, "watch", endpoint, 1, 0.2, 0.0, 8)
    assert out["end_seen"]
    assert out["issued"] == out["acked"] + out["errors"]
    assert out["errors"] == 0, out["first_error"]
    assert out["events"] == out["acked"] > 0
    assert 0 <= out["p50_ms"] <= out["p99_ms"]


def test_failing_calls_are_counted_as_errors() -> None:
    calls = 0

    def op(i: int) -> object:
        nonlocal calls
        calls += 1
        if i % 2:
            raise RuntimeError("boom")
        return None

    tally, seconds = loops.run_threads(op, 2, 0.05)
    out = loops.summary(tally, seconds)
    assert out["issued"] == calls == out["acked"] + out["errors"]
    assert out["errors"] > 0 and out["acked"] > 0
    assert "boom" in out["first_error"]


def _run(ops: float, acked: int, p50: float, issued: int | None = None) -> dict[str, Any]:
    return {
        "issued": acked if issued is None else issued,
        "acked": acked,
        "errors": 0,
        "seconds": acked / ops,
        "ops_per_s": ops,
        "p50_ms": p50,
        "p99_ms": p50 * 3,
    }


def test_aggregate_sums_counts_and_takes_median_latency() -> None:
    row = clients.aggregate("etcdkit-async", "put", 64, [_run(100, 100, 1.0), _run(300, 300, 5.0), _run(200, 200, 2.0)])
    assert (row.issued, row.acked, row.errors) == (600, 600, 0)
    assert row.ops_per_s == pytest.approx(600 / 3.0)
    assert (row.p50_ms, row.p99_ms) == (2.0, 6.0)
    assert row.counts_add_up
    assert not clients.aggregate("x", "put", 1, [_run(100, 100, 1.0, issued=101)]).counts_add_up
    watched = [{**_run(100, 100, 1.0), "events": 100}, {**_run(100, 100, 1.0), "events": 99}]
    assert clients.aggregate("x", "watch", 1, watched[:1]).counts_add_up
    assert not clients.aggregate("x", "watch", 1, watched).counts_add_up  # one acknowledged put never arrived


def test_targets_compare_the_issue_pairs() -> None:
    def row(client: str, wl: str, n: int, ops: int) -> Any:
        return clients.aggregate(client, wl, n, [_run(ops, ops, 1.0)])

    rows = [
        row("etcdkit-async", "put", 64, 900),
        row("aetcd", "put", 64, 1000),
        row("grpc-aio-stub", "put", 64, 1000),
        row("etcdkit-sync", "get", 1, 1100),
        row("python-etcd3", "get", 1, 1000),
    ]
    got = {desc: (round(ratio, 2), need, met) for desc, ratio, _, need, met in clients.targets(rows)}
    assert got == {
        "async vs aetcd, put c=64": (0.9, 1.0, False),
        "async vs grpc-aio-stub, put c=64": (0.9, 0.9, True),
        "sync vs python-etcd3, get 1 thread(s)": (1.1, 1.0, True),
    }


def test_paired_ratios_compare_round_by_round() -> None:
    ours = clients.aggregate("etcdkit-async", "put", 1, [_run(100, 100, 1.0), _run(300, 300, 1.0)])
    theirs = clients.aggregate("aetcd", "put", 1, [_run(200, 200, 1.0), _run(200, 200, 1.0)])
    assert clients.paired_ratios(ours, theirs) == [0.5, 1.5]
    ((_, pooled, median, _, _),) = clients.targets([ours, theirs])
    assert pooled == pytest.approx(1.0) and median == pytest.approx(1.0)
