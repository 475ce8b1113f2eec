"""The side-by-side scripts in bench/ define the cells the issues ask for (no server needed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from etcdkit.bench.sidebyside import parse_targets

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    """Load ``bench/<name>.py`` as a module; its sibling helpers import as when the script runs."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(BENCH))
    return mod


def test_kv_cells_match_issue_2() -> None:
    cells = {c.label: c.cfg for c in _load("kv").cells(1.0)}
    for n in (1, 16, 64, 256):
        cfg = cells[f"put c={n}"]
        assert (cfg.workload, cfg.clients, cfg.key_size, cfg.val_size) == ("put", n, 32, 256)
    for n in (1, 64):
        assert cells[f"range serializable c={n}"].serializable
        assert not cells[f"range linearizable c={n}"].serializable
    assert cells["txn compare-and-put c=64"].workload == "txn"
    assert all(c.duration == 1.0 and c.total is None for c in cells.values())


def test_watch_cells_match_issue_3() -> None:
    cells = {c.label: c.cfg for c in _load("watch").cells(1.0)}
    for n in (100, 1000):
        sat = cells[f"fan-out 1x{n} saturated"]
        paced = cells[f"fan-out 1x{n} @10k ev/s"]
        assert sat.workload == paced.workload == "watch"
        assert sat.watchers == paced.watchers == n
        assert sat.clients == paced.clients == 1  # one writer
        assert sat.total is not None and sat.total * n == 30_000
        assert paced.rate * n == pytest.approx(10_000)


def test_watch_paced_cells_at_other_offered_rates() -> None:
    watch = _load("watch")
    labels = {c.label: c.cfg for c in watch.cells(1.0, (2_500, 10_000))}
    assert labels["fan-out 1x100 @2.5k ev/s"].rate == pytest.approx(25.0)  # puts/s: each reaches 100 watchers
    assert labels["fan-out 1x1000 @2.5k ev/s"].rate == pytest.approx(2.5)
    assert labels["fan-out 1x1000 @10k ev/s"].rate == pytest.approx(10.0)
    assert len(labels) == 6  # 2 saturated + 2 x 2 paced
    assert [watch.paced_label(r) for r in (500, 2_500, 10_000)] == ["500", "2.5k", "10k"]


def test_lease_cells_match_issue_4() -> None:
    cells = {c.label: c.cfg for c in _load("lease").cells(1.0)}
    for n in (1, 16, 64):
        cfg = cells[f"grant c={n}"]
        assert (cfg.workload, cfg.clients) == ("lease-grant", n)
    assert (cells["keep-alive 1 stream"].workload, cells["keep-alive 1 stream"].clients) == ("lease", 1)
    assert (cells["keep-alive 16 streams"].workload, cells["keep-alive 16 streams"].clients) == ("lease", 16)
    assert all(c.duration == 1.0 and c.total is None for c in cells.values())


def test_parse_targets() -> None:
    assert parse_targets("etcd, etcdkit") == ["etcd", "etcdkit"]
    assert parse_targets("etcd") == ["etcd"]
    with pytest.raises(SystemExit):
        parse_targets("etcd,mysql")
    with pytest.raises(SystemExit):
        parse_targets(",")


@pytest.mark.parametrize("flavor", ["floor-aio", "floor-sync"])
def test_lease_floor_servers_answer_like_a_lease_service(flavor: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The do-nothing Lease servers of ``bench/lease.py --grpc-floor`` serve the cells' RPCs."""
    import importlib

    import grpc

    from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc

    # Imported by its own name, as when the script runs: the spawned server process imports it again.
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.delitem(sys.modules, "lease", raising=False)
    lease = importlib.import_module("lease")
    with lease.floor_target(flavor) as target, grpc.insecure_channel(target.endpoint) as ch:
        assert target.name == flavor and target.endpoint.startswith("127.0.0.1:")
        stub = rpc_pb2_grpc.LeaseStub(ch)
        a = stub.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=60), timeout=10)
        b = stub.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=5), timeout=10)
        assert (a.TTL, b.TTL) == (60, 5) and 0 < a.ID < b.ID
        answers = list(stub.LeaseKeepAlive(iter([rpc_pb2.LeaseKeepAliveRequest(ID=b.ID)] * 3), timeout=10))
        assert [(r.ID, r.TTL) for r in answers] == [(b.ID, 60)] * 3
        assert stub.LeaseRevoke(rpc_pb2.LeaseRevokeRequest(ID=a.ID), timeout=10) == rpc_pb2.LeaseRevokeResponse()


def test_lock_row_pools_rates_and_takes_the_median_round_ratio() -> None:
    recipes = _load("recipes")
    names = ["ours-sync", "ours-async", "python-etcd3"]
    runs = {
        "ours-sync": [
            {"ops": 300, "seconds": 1.0, "violations": 0},
            {"ops": 100, "seconds": 1.0, "violations": 0},
            {"ops": 200, "seconds": 1.0, "violations": 0},
        ],
        "ours-async": [{"ops": 40, "seconds": 2.0, "violations": 1}] * 3,
        "python-etcd3": [
            {"ops": 100, "seconds": 1.0, "violations": 0},
            {"ops": 100, "seconds": 1.0, "violations": 0},
            {"ops": 100, "seconds": 1.0, "violations": 0},
        ],
    }
    row = recipes.lock_row(8, runs, names)
    # pooled: 600 ops / 3 s = 200/s vs 100/s; per-round ratios 3, 1, 2 -> median 2
    assert row == "| 8 | 200 | 20 | 100 | 2.00x / 2.00x | 0.20x / 0.20x | 0, 3, 0 |"


def test_fanout_floor_server_serves_the_fanout_workload(monkeypatch: pytest.MonkeyPatch) -> None:
    """``bench/watch.py --fanout-floor``'s server answers the fan-out cells: every watcher of every
    stream gets every put, in order, once, ``created`` first (the workload checks the counts)."""
    import importlib

    import grpc

    from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
    from etcdkit.bench.config import BenchConfig
    from etcdkit.bench.runner import run_sync

    monkeypatch.syspath_prepend(str(BENCH))  # imported by its own name: the spawned server imports it again
    monkeypatch.delitem(sys.modules, "watch", raising=False)
    watch = importlib.import_module("watch")
    with watch.fanout_floor_target() as target:
        assert target.name == "floor" and target.endpoint.startswith("127.0.0.1:")
        cfg = BenchConfig(workload="watch", endpoints=(target.endpoint,), conns=2, watchers=12, streams=5,
                          total=20, prefix=b"/floor/", drain_timeout=10.0)
        r = run_sync(cfg)
        assert r.acknowledged == 20
        assert r.extra["events_delivered"] == r.extra["events_expected"] == 20 * 12

        # Two watches on one stream, then puts written while the sender may lag: per watch, one
        # created answer first, then every revision once and in order, whatever the merging.
        with grpc.insecure_channel(target.endpoint) as ch:
            kv = rpc_pb2_grpc.KVStub(ch)
            creates = [rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=b"/f/", range_end=b"/g"))] * 2
            call = rpc_pb2_grpc.WatchStub(ch).Watch(iter(creates), timeout=10)
            seen: dict[int, list[object]] = {0: [], 1: []}
            revs = []
            for resp in call:  # bounded: the deadline above, and the break once all puts arrived
                if resp.created:
                    seen[resp.watch_id].append("created")
                    if all(seen.values()):
                        revs = [kv.Put(rpc_pb2.PutRequest(key=b"/f/%d" % i, value=b"v"), timeout=10).header.revision
                                for i in range(5)]
                for ev in resp.events:
                    assert resp.header.revision >= ev.kv.mod_revision
                    seen[resp.watch_id].append(ev.kv.mod_revision)
                if revs and all(len(s) == 6 for s in seen.values()):
                    break
            call.cancel()  # type: ignore[no-untyped-call]
        assert seen == {0: ["created", *revs], 1: ["created", *revs]}
