"""etcdkit.bench against real etcd and against our server (one module-scoped process each):
counts add up (issued == acknowledged + errors) for every workload.

No timed assertions: only counts, completeness and server-side effects. Workloads
whose service our server does not implement yet (Watch, Lease) are skipped on it
after probing for UNIMPLEMENTED, so the skip disappears when the service lands.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from collections.abc import Iterator

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.bench.compare import Cell, Target, measure_idle_memory, render_table, run_cells
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.driver import ChannelPool
from etcdkit.bench.fanout import IdleWatchers
from etcdkit.bench.main import main
from etcdkit.bench.result import BenchResult
from etcdkit.bench.runner import run_sync
from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess, free_port


@pytest.fixture(scope="module", params=["etcd", "etcdkit"])
def etcd(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    """A running server: real etcd, or ``etcdkit serve`` (the fixture keeps its historic name)."""
    if request.param == "etcd":
        if EtcdProcess.binary() is None:
            pytest.skip("real etcd is not installed")
        srv: ServerProcess = EtcdProcess()
    else:
        srv = EtcdkitProcess(extra_args=["--unsafe-no-fsync"])
    with srv:
        yield srv


@pytest.fixture(scope="module")
def real_etcd(etcd: ServerProcess) -> ServerProcess:
    """Only real etcd (tests that read etcd-specific metrics)."""
    if not isinstance(etcd, EtcdProcess):
        pytest.skip("checks an etcd-specific metric")
    return etcd


def _require(srv: ServerProcess, service: str) -> None:
    """Skip when ``srv`` answers UNIMPLEMENTED for ``service`` ("watch" or "lease")."""
    with grpc.insecure_channel(srv.endpoint) as ch:
        try:
            if service == "lease":
                rpc_pb2_grpc.LeaseStub(ch).LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=10)
            else:
                call = rpc_pb2_grpc.WatchStub(ch).Watch(
                    iter([rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(key=b"/probe"))]),
                    timeout=10,
                )
                for _ in call:  # the first answer (created) is enough
                    break
                call.cancel()  # type: ignore[no-untyped-call]
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                pytest.skip(f"{srv.name} has no {service} service yet")
            raise


def _cfg(etcd: ServerProcess, **kw: object) -> BenchConfig:
    base: dict[str, object] = {"endpoints": (etcd.endpoint,), "clients": 4, "conns": 2, "total": 120,
                               "key_space": 50, "timeout": 10.0}
    base.update(kw)
    return BenchConfig(**base)  # type: ignore[arg-type]


def _assert_clean(r: BenchResult, n: int) -> None:
    assert r.issued == n
    assert r.issued == r.acknowledged + r.errors
    assert r.errors == 0, r.error_kinds
    assert r.latencies.count == r.acknowledged
    assert r.elapsed_s > 0


def _kv_count(etcd: ServerProcess, prefix: bytes) -> int:
    from etcdkit.api.keys import prefix_end

    with grpc.insecure_channel(etcd.endpoint) as ch:
        resp = rpc_pb2_grpc.KVStub(ch).Range(
            rpc_pb2.RangeRequest(key=prefix, range_end=prefix_end(prefix), count_only=True), timeout=10
        )
    return int(resp.count)


def test_put_counts_and_keys(etcd: ServerProcess) -> None:
    r = run_sync(_cfg(etcd, workload="put", prefix=b"/t-put/", key_space=30, total=200))
    _assert_clean(r, 200)
    assert _kv_count(etcd, b"/t-put/") == 30  # 200 random puts over 30 keys hit all of them (seeded)


@pytest.mark.parametrize("serializable", [True, False])
def test_range_counts(etcd: ServerProcess, serializable: bool) -> None:
    r = run_sync(_cfg(etcd, workload="range", prefix=b"/t-range/", serializable=serializable, warmup=0.1))
    _assert_clean(r, 120)


def test_txn_counts_every_compare_holds(etcd: ServerProcess) -> None:
    r = run_sync(_cfg(etcd, workload="txn", prefix=b"/t-txn/"))
    _assert_clean(r, 120)
    assert r.extra == {"txn_succeeded": 120.0, "txn_failed": 0.0}


def test_lease_keepalive_counts_and_revokes(etcd: ServerProcess) -> None:
    _require(etcd, "lease")
    r = run_sync(_cfg(etcd, workload="lease", clients=3, total=90))
    _assert_clean(r, 90)
    with grpc.insecure_channel(etcd.endpoint) as ch:
        leases = rpc_pb2_grpc.LeaseStub(ch).LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=10)
    assert list(leases.leases) == []  # teardown revoked every granted lease


def test_lease_grant_counts_and_revokes(etcd: ServerProcess) -> None:
    _require(etcd, "lease")
    r = run_sync(_cfg(etcd, workload="lease-grant", clients=4, total=60, warmup=0.1))
    _assert_clean(r, 60)
    with grpc.insecure_channel(etcd.endpoint) as ch:
        leases = rpc_pb2_grpc.LeaseStub(ch).LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=10)
    assert list(leases.leases) == []  # teardown revoked every lease granted, warm-up ones included


def test_watch_fanout_delivers_every_event(etcd: ServerProcess) -> None:
    _require(etcd, "watch")
    r = run_sync(_cfg(etcd, workload="watch", prefix=b"/t-watch/", watchers=10, streams=4, clients=2, total=25))
    assert r.issued == 25 == r.acknowledged + r.errors and r.errors == 0
    assert r.extra["events_expected"] == 250
    assert r.extra["events_delivered"] == 250
    assert r.extra["events_missing"] == 0
    assert r.latencies.count == 250  # one delivery latency per event
    assert r.headline_count == 250 and r.events_per_s > 0


def test_errors_are_counted_not_lost(etcd: ServerProcess) -> None:
    # values above etcd's 1.5 MiB --max-request-bytes: every put fails ("etcdserver: request is too large")
    r = run_sync(_cfg(etcd, workload="put", prefix=b"/t-big/", val_size=1_700_000, clients=2, total=6))
    assert r.issued == 6 and r.acknowledged == 0 and r.errors == 6
    assert r.error_kinds == {"INVALID_ARGUMENT": 6}
    assert r.latencies.count == 0


def test_cli_json(etcd: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["put", "--endpoints", etcd.endpoint, "--total", "40", "--clients", "4", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["issued"] == 40 == out["acknowledged"] + out["errors"]
    assert out["counts_ok"] is True
    assert sum(b["count"] for b in out["histogram"]) == out["acknowledged"]
    assert set(out["latency_ms"]) == {"mean", "min", "p50", "p90", "p99", "max"}


def test_cli_text(etcd: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    _require(etcd, "watch")
    rc = main(["watch", "--endpoints", etcd.endpoint, "--total", "5", "--watchers", "3", "--prefix", "/t-cli/"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "issued: 5  acknowledged: 5  errors: 0" in out
    assert "events: delivered 15 / expected 15" in out


def test_cli_unreachable_endpoint_fails_cleanly(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["put", "--endpoints", f"127.0.0.1:{free_port()}", "--total", "1", "--timeout", "0.5"])
    assert rc == 1
    assert "etcdkit bench:" in capsys.readouterr().err


def test_idle_watchers_are_registered(real_etcd: ServerProcess) -> None:
    etcd = real_etcd

    def watchers() -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{etcd.metrics_port}/metrics", timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith("etcd_debugging_mvcc_watcher_total "):
                    return float(line.split()[1])
        raise AssertionError("no watcher gauge")

    before = watchers()

    async def go() -> float:
        async with ChannelPool([etcd.endpoint], 1) as pool, IdleWatchers(pool, 50, 5) as idle:
            assert len(idle.calls) == 5
            return watchers()

    assert asyncio.run(go()) - before == 50


def test_side_by_side_with_one_server(real_etcd: ServerProcess) -> None:
    etcd = real_etcd
    assert etcd.proc is not None
    target = Target("etcd", etcd.endpoint, etcd.proc.pid)
    cells = [Cell("put c=2", _cfg(etcd, workload="put", clients=2, total=60)),
             Cell("watch x3", _cfg(etcd, workload="watch", watchers=3, clients=1, total=10, prefix=b"/t-sbs/"))]
    rows = run_cells(cells, [target], rounds=2, log=lambda s: None)
    put, watch = rows
    assert put.stats["etcd"].issued == 120 == put.stats["etcd"].acknowledged
    assert put.stats["etcd"].ops == 120 and put.stats["etcd"].cpu_s >= 0
    assert watch.unit == "events/s" and watch.stats["etcd"].ops == 60
    table = render_table(rows, ["etcd", "etcdkit"])
    assert table.count("pending") == 2 * 4  # per row: etcdkit rate, ratio, p50/p99, CPU
    mem = measure_idle_memory(target, watchers=20, streams=2)
    assert mem.watchers == 20 and mem.rss_after > 0


@pytest.mark.skipif(shutil.which("etcdctl") is None, reason="etcdctl is not installed")
def test_put_keys_are_visible_to_etcdctl(etcd: ServerProcess) -> None:
    import subprocess

    run_sync(_cfg(etcd, workload="put", prefix=b"/t-ctl/", key_space=3, total=30, key_size=16))
    out = subprocess.run(
        ["etcdctl", "--endpoints", etcd.endpoint, "get", "/t-ctl/", "--prefix", "--keys-only"],
        capture_output=True, text=True, timeout=30, env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    ).stdout.split()
    assert out == ["/t-ctl/000000000", "/t-ctl/000000001", "/t-ctl/000000002"]


def test_cli_setup_failure_is_one_line(etcd: ServerProcess, capsys: pytest.CaptureFixture[str]) -> None:
    # a range preload value above --max-request-bytes fails during set-up, before any op is counted
    rc = main(["range", "--endpoints", etcd.endpoint, "--total", "1", "--key-space", "1", "--val-size", "1700000",
               "--prefix", "/t-fail/"])
    assert rc == 1
    err = capsys.readouterr().err
    assert err.startswith("etcdkit bench: AioRpcError: INVALID_ARGUMENT: etcdserver: request is too large")
    assert "Traceback" not in err
