"""Benchmark configuration: one frozen dataclass, validated once.

Contract: a ``BenchConfig`` always describes a *bounded* run (``total`` ops,
or ``duration`` seconds, or both: whichever comes first ends the run), and
every request carries a ``timeout``, so a run ends even against a server that
stops answering.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WORKLOADS", "BenchConfig"]

WORKLOADS: tuple[str, ...] = ("put", "range", "txn", "watch", "lease", "lease-grant")


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to run and how hard.

    ``clients`` concurrent requests are spread over ``conns`` gRPC connections
    (round-robin over ``endpoints``). ``rate`` caps issued ops/s across all
    clients (0 = unlimited). Keys are ``key_size`` bytes, drawn uniformly from
    ``key_space`` distinct keys under ``prefix``; values are ``val_size`` bytes.
    """

    workload: str = "put"
    endpoints: tuple[str, ...] = ("127.0.0.1:2379",)
    conns: int = 1
    clients: int = 1
    total: int | None = None
    duration: float | None = None
    rate: float = 0.0
    key_size: int = 32
    val_size: int = 256
    key_space: int = 1000
    prefix: bytes = b"/bench/"
    serializable: bool = False
    timeout: float = 10.0
    warmup: float = 0.0
    # watch fan-out
    watchers: int = 100
    streams: int = 0  # 0: one stream per watcher
    drain_timeout: float = 10.0
    # lease keep-alive (TTL of the kept-alive leases) and lease-grant (TTL of each granted lease)
    lease_ttl: int = 60
    seed: int = 1

    def __post_init__(self) -> None:
        if self.workload not in WORKLOADS:
            raise ValueError(f"unknown workload {self.workload!r}; choose from {', '.join(WORKLOADS)}")
        if not self.endpoints:
            raise ValueError("no endpoints")
        if self.conns < 1 or self.clients < 1:
            raise ValueError("--conns and --clients must be >= 1")
        if self.total is None and self.duration is None:
            raise ValueError("a run needs --total or --duration")
        if self.total is not None and self.total < 0:
            raise ValueError("--total must be >= 0")
        if self.duration is not None and self.duration <= 0:
            raise ValueError("--duration must be > 0")
        if self.rate < 0:
            raise ValueError("--rate must be >= 0")
        if self.key_space < 1:
            raise ValueError("--key-space must be >= 1")
        if self.key_size < len(self.prefix) + len(str(self.key_space - 1)):
            raise ValueError(
                f"--key-size {self.key_size} is too small for prefix {self.prefix!r} and {self.key_space} keys"
            )
        if self.workload == "watch":
            if self.watchers < 1:
                raise ValueError("--watchers must be >= 1")
            if self.val_size < 8:
                raise ValueError("watch fan-out embeds an 8-byte send timestamp: --val-size must be >= 8")
        if self.streams < 0:
            raise ValueError("--streams must be >= 0")
        if self.timeout <= 0:
            raise ValueError("--timeout must be > 0")

    @property
    def watch_streams(self) -> int:
        """Streams carrying the watchers (at most one per watcher)."""
        return min(self.watchers, self.streams or self.watchers)
