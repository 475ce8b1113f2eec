"""Percentile and histogram math of etcdkit.bench.latency (pure, no server)."""

from __future__ import annotations

import itertools

import pytest

from etcdkit.bench.latency import BUCKET_BOUNDS_NS, LatencyRecorder, format_histogram, nearest_rank


def test_nearest_rank_on_one_to_hundred() -> None:
    s = list(range(1, 101))
    assert nearest_rank(s, 50) == 50
    assert nearest_rank(s, 90) == 90
    assert nearest_rank(s, 99) == 99
    assert nearest_rank(s, 100) == 100
    assert nearest_rank(s, 0) == 1


def test_nearest_rank_small_sets() -> None:
    assert nearest_rank([7], 50) == 7
    assert nearest_rank([7], 99) == 7
    # 4 samples: p50 -> rank ceil(2.0) = 2; p51 -> rank 3; p99 -> rank 4
    assert nearest_rank([10, 20, 30, 40], 50) == 20
    assert nearest_rank([10, 20, 30, 40], 51) == 30
    assert nearest_rank([10, 20, 30, 40], 99) == 40


def test_nearest_rank_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        nearest_rank([], 50)
    with pytest.raises(ValueError):
        nearest_rank([1], 101)
    with pytest.raises(ValueError):
        nearest_rank([1], -1)


def test_recorder_summary_is_order_independent() -> None:
    r = LatencyRecorder()
    for v in [5_000, 1_000, 3_000, 2_000, 4_000]:
        r.record(v)
    s = r.summary()
    assert (s.count, s.min_ns, s.p50_ns, s.p90_ns, s.p99_ns, s.max_ns) == (5, 1_000, 3_000, 5_000, 5_000, 5_000)
    assert s.mean_ns == 3_000
    assert s.as_ms()["p50"] == 0.003


def test_empty_recorder_has_no_percentiles() -> None:
    r = LatencyRecorder()
    assert r.percentile(50) is None
    s = r.summary()
    assert s.count == 0 and s.p99_ns is None and s.mean_ns is None
    assert r.histogram() == []
    assert "no samples" in format_histogram(r.histogram())


def test_negative_samples_are_clamped() -> None:
    r = LatencyRecorder()
    r.record(-5)
    assert r.percentile(100) == 0


def test_merge_concatenates_and_invalidates_sort_cache() -> None:
    a = LatencyRecorder([1, 2, 3])
    assert a.percentile(100) == 3  # fills the sorted cache
    a.merge(LatencyRecorder([100, 200]))
    assert a.count == 5
    assert a.percentile(100) == 200
    assert list(a.samples()) == [1, 2, 3, 100, 200]


def test_histogram_buckets_sum_to_count_and_use_inclusive_bounds() -> None:
    samples = [1_000, 1_001, 2_000, 450_000, 3_000_000, 10**13]
    r = LatencyRecorder(samples)
    h = r.histogram()
    assert sum(c for _, c in h) == len(samples)
    d = dict(h)
    assert d[1_000] == 1  # exactly on the bound: inclusive
    assert d[2_000] == 2  # 1_001 and 2_000
    assert d[500_000] == 1
    assert d[5_000_000] == 1
    assert d[BUCKET_BOUNDS_NS[-1]] == 1  # beyond 100 s: the catch-all bucket
    # trimmed: first and last buckets are non-empty; inner empty buckets are kept
    assert h[0][1] > 0 and h[-1][1] > 0
    assert d[5_000] == 0


def test_bucket_bounds_are_increasing() -> None:
    assert all(a < b for a, b in itertools.pairwise(BUCKET_BOUNDS_NS))


def test_format_histogram_lines() -> None:
    text = format_histogram([(1_000, 1), (2_000_000, 4)], width=8)
    lines = text.splitlines()
    assert len(lines) == 2
    assert "1 us" in lines[0] and lines[0].endswith("##")
    assert "2 ms" in lines[1] and lines[1].endswith("#" * 8)
