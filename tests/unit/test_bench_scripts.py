"""The side-by-side scripts in bench/ define the cells the issues ask for (no server needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from etcdkit.bench.sidebyside import parse_targets

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
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
