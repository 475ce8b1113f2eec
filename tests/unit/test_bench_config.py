"""BenchConfig validation, result counting rules, /proc parsers and the CLI's argument handling (no server)."""

from __future__ import annotations

import asyncio
import os

import pytest

from etcdkit.bench.compare import CellRow, CpuProbe, MemoryRow, TargetStats, render_memory_table, render_table
from etcdkit.bench.config import BenchConfig
from etcdkit.bench.driver import drive
from etcdkit.bench.latency import LatencyRecorder
from etcdkit.bench.main import build_parser, config_from_args, main
from etcdkit.bench.procstat import cpu_seconds, parse_rss_bytes, parse_stat_cpu_ticks, rss_bytes
from etcdkit.bench.result import BenchResult, CountMismatch
from etcdkit.bench.workloads import make_key, make_value


@pytest.mark.parametrize(
    "kwargs",
    [
        {"workload": "nope", "duration": 1.0},
        {"duration": None, "total": None},
        {"duration": 0.0},
        {"duration": 1.0, "clients": 0},
        {"duration": 1.0, "rate": -1.0},
        {"duration": 1.0, "key_size": 8, "key_space": 10**6},
        {"duration": 1.0, "workload": "watch", "val_size": 4},
        {"duration": 1.0, "workload": "watch", "watchers": 0},
    ],
)
def test_invalid_configs_are_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BenchConfig(**kwargs)  # type: ignore[arg-type]


def test_watch_streams_default_to_one_per_watcher() -> None:
    assert BenchConfig(workload="watch", total=1, watchers=7).watch_streams == 7
    assert BenchConfig(workload="watch", total=1, watchers=7, streams=3).watch_streams == 3
    assert BenchConfig(workload="watch", total=1, watchers=2, streams=10).watch_streams == 2


def test_keys_have_the_requested_size_and_are_distinct() -> None:
    keys = {make_key(b"/p/", i, 32) for i in range(1000)}
    assert len(keys) == 1000
    assert {len(k) for k in keys} == {32}
    assert all(k.startswith(b"/p/") for k in keys)
    with pytest.raises(ValueError):
        make_key(b"/p/", 12345, 6)
    v = make_value(256)
    assert len(v) == 256 and v == make_value(256) and v != make_value(256, seed=2)


def test_count_check() -> None:
    r = BenchResult("put", 1, 1, issued=3, acknowledged=2, errors=1)
    r.check()
    r.issued = 4
    with pytest.raises(CountMismatch):
        r.check()


def test_drive_counts_errors_and_stops_at_total() -> None:
    calls = 0

    async def op(cid: int) -> None:
        nonlocal calls
        calls += 1
        mine = calls
        await asyncio.sleep(0)
        if mine % 3 == 0:
            raise RuntimeError("boom")

    r = BenchResult("put", 4, 1)
    asyncio.run(drive(op, r, clients=4, total=30, duration=None))
    assert r.issued == 30 == calls
    assert r.errors == 10 and r.acknowledged == 20
    assert r.error_kinds == {"RuntimeError": 10}
    assert r.latencies.count == 20
    r.check()


def test_drive_without_recording() -> None:
    async def op(cid: int) -> None:
        await asyncio.sleep(0)

    r = BenchResult("put", 2, 1)
    asyncio.run(drive(op, r, clients=2, total=10, duration=None, record=False))
    assert r.acknowledged == 10 and r.latencies.count == 0


def test_drive_rate_limit_issues_no_more_than_the_schedule() -> None:
    async def op(cid: int) -> None:
        await asyncio.sleep(0)

    r = BenchResult("put", 8, 1)
    # 0.3 s at 20 ops/s: slots at 0, 0.05, ..., 0.25 -> at most 6 issued, however fast the op
    asyncio.run(drive(op, r, clients=8, total=None, duration=0.3, rate=20.0))
    assert 1 <= r.issued <= 6
    r.check()


def test_drive_refuses_unbounded_runs() -> None:
    async def op(cid: int) -> None:
        return None

    with pytest.raises(ValueError):
        asyncio.run(drive(op, BenchResult("put", 1, 1), clients=1, total=None, duration=None))


def test_proc_stat_parsing_handles_odd_command_names() -> None:
    fields = ["S"] + ["0"] * 10 + ["123", "45"] + ["0"] * 30
    text = "4242 (a) (b c) " + " ".join(fields) + "\n"
    assert parse_stat_cpu_ticks(text) == 168


def test_proc_status_parsing() -> None:
    assert parse_rss_bytes("Name:\tx\nVmRSS:\t  1234 kB\nThreads: 1\n") == 1234 * 1024
    with pytest.raises(ValueError):
        parse_rss_bytes("Name:\tx\n")


def test_own_process_cpu_and_rss_are_readable() -> None:
    probe = CpuProbe(os.getpid())
    probe.start()
    sum(i * i for i in range(200_000))  # burn a little CPU so the reading is non-trivial
    probe.stop()
    assert probe.seconds >= 0.0
    assert cpu_seconds(os.getpid()) > 0.0
    assert rss_bytes(os.getpid()) > 1024 * 1024
    with pytest.raises(RuntimeError):
        probe.stop()


def test_render_table_marks_missing_servers_pending() -> None:
    st = TargetStats(ops=1000.0, seconds=2.0, cpu_s=0.1, issued=1000, acknowledged=1000,
                     latencies=LatencyRecorder([1_000_000, 2_000_000]))
    text = render_table([CellRow("put c=1", "ops/s", {"etcd": st})], ["etcd", "etcdkit"])
    lines = text.splitlines()
    assert lines[0].startswith("| workload | etcd rate | etcdkit rate | etcdkit/etcd |")
    assert lines[2] == "| put c=1 | 500 ops/s | pending | pending | 1.00 / 2.00 | 100 | pending | pending |"


def test_render_table_ratio() -> None:
    a = TargetStats(ops=1000.0, seconds=1.0, latencies=LatencyRecorder([1]))
    b = TargetStats(ops=400.0, seconds=1.0, latencies=LatencyRecorder([1]))
    text = render_table([CellRow("x", "ops/s", {"etcd": a, "etcdkit": b})], ["etcd", "etcdkit"])
    assert "| 0.40x |" in text


def test_render_memory_table() -> None:
    rows = [MemoryRow("etcd", 100, 10, 10 * 2**20, 10 * 2**20 + 35_000)]
    text = render_memory_table(rows, ["etcd", "etcdkit"])
    assert "| etcd | 100 / 10 | 10.0 | 10.0 | 350 | 1.00x |" in text
    assert "| etcdkit | pending |" in text


def test_cli_builds_config() -> None:
    ns = build_parser().parse_args(
        ["range", "--endpoints", "http://127.0.0.1:1,127.0.0.1:2", "--consistency", "s", "--clients", "8"]
    )
    cfg = config_from_args(ns)
    assert cfg.endpoints == ("127.0.0.1:1", "127.0.0.1:2")
    assert cfg.serializable and cfg.clients == 8
    assert cfg.duration == 10.0 and cfg.total is None
    cfg = config_from_args(build_parser().parse_args(["put", "--total", "5"]))
    assert cfg.total == 5 and cfg.duration is None


def test_cli_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["put", "--clients", "0", "--total", "1"])
    assert exc.value.code == 2
    assert "--clients" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_a_failing_target_is_marked_not_fatal() -> None:
    from etcdkit.bench.compare import Cell, Target, run_cells
    from etcdkit.testing import free_port

    dead = Target("etcdkit", f"127.0.0.1:{free_port()}", os.getpid())  # nobody listens there
    cell = Cell("put c=1", BenchConfig(total=5, timeout=0.3))
    logs: list[str] = []
    (row,) = run_cells([cell], [dead], rounds=2, log=logs.append)
    assert row.failures == {"etcdkit": "TimeoutError"}
    assert row.stats == {}
    assert len(logs) == 1  # the second round is skipped on a failed target
    text = render_table([row], ["etcd", "etcdkit"])
    assert "| put c=1 | pending | failed (TimeoutError) | - | pending | pending | - | - |" in text
