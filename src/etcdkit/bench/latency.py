"""Latency samples, percentiles and a printable histogram.

Contract:

* samples are integer nanoseconds, kept exactly (one ``array('q')``), so
  percentiles are exact, recorders from several workers merge by
  concatenation, and nothing is lost to bucketing;
* ``percentile(p)`` is the *nearest-rank* percentile: the smallest sample
  such that at least ``p`` percent of the samples are <= it (``p = 0`` is the
  minimum, ``p = 100`` the maximum); an empty recorder has no percentiles
  (``None``);
* ``histogram()`` counts samples in 1-2-5 logarithmic buckets (upper bounds
  inclusive) and drops the empty buckets before the first and after the last
  sample, so the counts always sum to ``count``.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["BUCKET_BOUNDS_NS", "LatencyRecorder", "LatencySummary", "format_histogram", "nearest_rank"]

# 1 µs .. 100 s in a 1-2-5 series, then one catch-all bucket.
BUCKET_BOUNDS_NS: tuple[int, ...] = (*(m * 10**e for e in range(3, 12) for m in (1, 2, 5)), 2**63 - 1)


def nearest_rank(sorted_samples: Sequence[int], p: float) -> int:
    """The nearest-rank ``p``-th percentile of an ascending, non-empty sequence."""
    if not sorted_samples:
        raise ValueError("no samples")
    if not 0.0 <= p <= 100.0:
        raise ValueError(f"percentile out of range: {p}")
    n = len(sorted_samples)
    rank = math.ceil(p / 100.0 * n)
    return sorted_samples[min(max(rank, 1), n) - 1]


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Percentiles of one run, in nanoseconds (all ``None`` when there are no samples)."""

    count: int
    mean_ns: float | None
    min_ns: int | None
    p50_ns: int | None
    p90_ns: int | None
    p99_ns: int | None
    max_ns: int | None

    def as_ms(self) -> dict[str, float | None]:
        """The summary in milliseconds (for JSON output)."""

        def ms(v: float | None) -> float | None:
            return None if v is None else round(v / 1e6, 4)

        return {
            "mean": ms(self.mean_ns),
            "min": ms(self.min_ns),
            "p50": ms(self.p50_ns),
            "p90": ms(self.p90_ns),
            "p99": ms(self.p99_ns),
            "max": ms(self.max_ns),
        }


class LatencyRecorder:
    """An append-only bag of latency samples (ns). Owned by one event loop; not thread-safe."""

    __slots__ = ("_samples", "_sorted")

    def __init__(self, samples: Iterable[int] = ()) -> None:
        self._samples = array("q", samples)
        self._sorted: array[int] | None = None

    def record(self, ns: int) -> None:
        """Add one sample (negative samples are clamped to 0: clocks are monotonic, jitter is not)."""
        self._samples.append(ns if ns > 0 else 0)
        self._sorted = None

    def merge(self, other: LatencyRecorder) -> None:
        """Add every sample of ``other``."""
        self._samples.extend(other._samples)
        self._sorted = None

    @property
    def count(self) -> int:
        return len(self._samples)

    def samples(self) -> array[int]:
        """A copy of the raw samples, in recording order."""
        return array("q", self._samples)

    def _ascending(self) -> array[int]:
        if self._sorted is None:
            self._sorted = array("q", sorted(self._samples))
        return self._sorted

    def percentile(self, p: float) -> int | None:
        """Nearest-rank percentile in ns, or ``None`` without samples."""
        if not self._samples:
            return None
        return nearest_rank(self._ascending(), p)

    def summary(self) -> LatencySummary:
        """Count, mean, min, p50, p90, p99 and max."""
        if not self._samples:
            return LatencySummary(0, None, None, None, None, None, None)
        s = self._ascending()
        return LatencySummary(
            count=len(s),
            mean_ns=sum(s) / len(s),
            min_ns=s[0],
            p50_ns=nearest_rank(s, 50),
            p90_ns=nearest_rank(s, 90),
            p99_ns=nearest_rank(s, 99),
            max_ns=s[-1],
        )

    def histogram(self) -> list[tuple[int, int]]:
        """``(upper_bound_ns, count)`` per 1-2-5 bucket, trimmed of empty edge buckets."""
        counts = [0] * len(BUCKET_BOUNDS_NS)
        b = 0
        for v in self._ascending():
            while v > BUCKET_BOUNDS_NS[b]:
                b += 1
            counts[b] += 1
        nonzero = [i for i, c in enumerate(counts) if c]
        if not nonzero:
            return []
        return [(BUCKET_BOUNDS_NS[i], counts[i]) for i in range(nonzero[0], nonzero[-1] + 1)]


def _fmt_bound(ns: int) -> str:
    if ns >= 2**62:
        return "+inf"
    if ns >= 1_000_000_000:
        return f"{ns // 1_000_000_000} s"
    if ns >= 1_000_000:
        return f"{ns // 1_000_000} ms"
    return f"{ns // 1_000} us"


def format_histogram(buckets: Sequence[tuple[int, int]], width: int = 40) -> str:
    """Render ``histogram()`` output as text bars, one line per bucket (``<= bound  count  bar``)."""
    if not buckets:
        return "  (no samples)"
    top = max(c for _, c in buckets)
    lines = []
    for bound, c in buckets:
        bar = "#" * (0 if top == 0 else max(1 if c else 0, round(c * width / top)))
        lines.append(f"  <= {_fmt_bound(bound):>7} {c:>10}  {bar}")
    return "\n".join(lines)
