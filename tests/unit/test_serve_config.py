"""``etcdkit serve`` flags, ETCD_* environment variables and etcd's id derivation."""

from __future__ import annotations

from pathlib import Path

import pytest

from etcdkit.server.config import cluster_id, member_id
from etcdkit.server.main import parse_config, parse_duration


def test_defaults_match_etcd() -> None:
    cfg = parse_config([])
    assert cfg.data_dir == Path("default.etcd")
    assert cfg.listen_client_urls == ("http://127.0.0.1:2379",)
    assert cfg.advertise_client_urls == cfg.listen_client_urls
    assert (cfg.max_request_bytes, cfg.max_txn_ops, cfg.quota_bytes) == (1572864, 128, 2 << 30)
    assert cfg.min_lease_ttl == 2


def test_flags_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETCD_NAME", "from-env")
    monkeypatch.setenv("ETCD_MAX_TXN_OPS", "7")
    monkeypatch.setenv("ETCD_UNSAFE_NO_FSYNC", "true")
    cfg = parse_config(["--max-txn-ops=9"])
    assert cfg.name == "from-env"
    assert cfg.data_dir == Path("from-env.etcd")
    assert cfg.max_txn_ops == 9
    assert cfg.unsafe_no_fsync is True


def test_ids_are_derived_like_etcd() -> None:
    # Values printed by etcd 3.4.23 for --initial-advertise-peer-urls http://localhost:2380
    # and the default token (etcdctl member list -w json).
    mid = member_id(["http://localhost:2380"], "etcd-cluster")
    assert mid == 10276657743932975437
    assert cluster_id([mid]) == 14841639068965178418
    cfg = parse_config(["--name=n1", "--initial-cluster=n1=http://10.0.0.1:2380,n2=http://10.0.0.2:2380"])
    assert cfg.peer_urls() == ("http://10.0.0.1:2380",)


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600.0), ("1h30m", 5400.0), ("500ms", 0.5), ("5", 5.0)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_duration_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_duration("10x")
