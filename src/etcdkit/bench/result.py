"""The outcome of one benchmark run, its invariants and its renderings.

Contract: ``issued == acknowledged + errors`` once a run has ended (every
issued request was awaited to success or failure); ``check()`` raises
``CountMismatch`` otherwise. ``ops_per_s`` is acknowledged ops over the
measured wall time. For the watch fan-out the latency samples are event
*delivery* latencies and ``events_per_s`` is the headline rate.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from etcdkit.bench.latency import LatencyRecorder, format_histogram

__all__ = ["BenchResult", "CountMismatch"]


class CountMismatch(AssertionError):
    """``issued != acknowledged + errors``: the load generator lost track of a request."""


@dataclass(slots=True)
class BenchResult:
    """Counts, time and latencies of one run (mutable while the run is in progress)."""

    workload: str
    clients: int
    conns: int
    issued: int = 0
    acknowledged: int = 0
    errors: int = 0
    elapsed_s: float = 0.0
    latencies: LatencyRecorder = field(default_factory=LatencyRecorder)
    error_kinds: Counter[str] = field(default_factory=Counter)
    # workload-specific counters (txn: succeeded/failed; watch: events expected/delivered)
    extra: dict[str, float] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ``CountMismatch`` unless ``issued == acknowledged + errors``."""
        if self.issued != self.acknowledged + self.errors:
            raise CountMismatch(
                f"issued {self.issued} != acknowledged {self.acknowledged} + errors {self.errors}"
            )

    @property
    def ops_per_s(self) -> float:
        return self.acknowledged / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def events_per_s(self) -> float:
        """Watch fan-out: events delivered per second (0 for other workloads)."""
        delivered = self.extra.get("events_delivered", 0.0)
        window = self.extra.get("delivery_s", 0.0)
        return delivered / window if window > 0 else 0.0

    @property
    def headline_rate(self) -> float:
        """What the side-by-side table compares: events/s for watch, ops/s otherwise."""
        return self.events_per_s if self.workload == "watch" else self.ops_per_s

    @property
    def headline_count(self) -> float:
        """Units of work behind ``headline_rate`` (for CPU per op)."""
        return self.extra.get("events_delivered", 0.0) if self.workload == "watch" else float(self.acknowledged)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (latencies in ms; histogram bucket bounds in µs)."""
        return {
            "workload": self.workload,
            "clients": self.clients,
            "conns": self.conns,
            "issued": self.issued,
            "acknowledged": self.acknowledged,
            "errors": self.errors,
            "error_kinds": dict(self.error_kinds),
            "counts_ok": self.issued == self.acknowledged + self.errors,
            "elapsed_s": round(self.elapsed_s, 6),
            "ops_per_s": round(self.ops_per_s, 2),
            "latency_ms": self.latencies.summary().as_ms(),
            "histogram": [{"le_us": b / 1000, "count": c} for b, c in self.latencies.histogram()],
            "extra": self.extra,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def render(self) -> str:
        """Human-readable report (what ``etcdkit bench`` prints without ``--json``)."""
        s = self.latencies.summary().as_ms()
        what = "delivery latency" if self.workload == "watch" else "latency"
        lines = [
            f"workload: {self.workload}  clients: {self.clients}  conns: {self.conns}",
            f"issued: {self.issued}  acknowledged: {self.acknowledged}  errors: {self.errors}"
            + (f"  ({', '.join(f'{k}: {v}' for k, v in sorted(self.error_kinds.items()))})" if self.errors else ""),
            f"elapsed: {self.elapsed_s:.3f} s  ops/s: {self.ops_per_s:,.1f}",
        ]
        if self.workload == "watch":
            lines.append(
                f"events: delivered {int(self.extra.get('events_delivered', 0))}"
                f" / expected {int(self.extra.get('events_expected', 0))}"
                f"  events/s: {self.events_per_s:,.1f}"
            )
        elif self.extra:
            lines.append("  ".join(f"{k}: {v:g}" for k, v in sorted(self.extra.items())))
        lines.append(
            f"{what} (ms): p50 {_f(s['p50'])}  p90 {_f(s['p90'])}  p99 {_f(s['p99'])}"
            f"  max {_f(s['max'])}  mean {_f(s['mean'])}"
        )
        lines.append("histogram:")
        lines.append(format_histogram(self.latencies.histogram()))
        return "\n".join(lines)


def _f(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"
