"""Client configuration: one frozen dataclass, like clientv3's ``Config``.

All durations are seconds (floats). Defaults follow clientv3 where it has
one (max send 2 MiB, unlimited receive, keep-alive off unless set).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ClientConfig", "TLSConfig", "WatchConfig"]


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """PEM file paths. ``ca_file`` alone gives server verification; add both
    ``cert_file`` and ``key_file`` for client-certificate authentication."""

    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    server_name: str | None = None  # override for SNI / certificate host check

    def __post_init__(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("TLSConfig needs both cert_file and key_file, or neither")


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """How watches survive failures.

    * ``progress_interval``: with no response for this long, the watch stream
      sends a progress request;
    * ``stall_timeout``: with no response at all for this long (progress
      requests included), the stream is declared stalled and moves to the
      next endpoint. Must exceed ``progress_interval``;
    * ``backoff_initial``/``backoff_max``: reconnect delay, doubling, with
      jitter (the delay is drawn in ``[d/2, d]``);
    * ``require_leader``: send ``hasleader: true`` so a member without a
      leader cancels the stream instead of going silent;
    * ``max_queued_events``: per watch, how many received events may wait
      for the consumer. A watch that reaches it on the shared stream moves
      to a stream of its own; there, the client stops reading until the
      consumer catches up (HTTP/2 flow control then holds the server back).
      A queue holds fewer than this many events plus one response (etcd
      never splits a revision, so a response can be larger).
    """

    progress_interval: float = 5.0
    stall_timeout: float = 15.0
    backoff_initial: float = 0.05
    backoff_max: float = 2.0
    require_leader: bool = True
    max_queued_events: int = 10_000

    def __post_init__(self) -> None:
        if self.max_queued_events < 1:
            raise ValueError("max_queued_events must be >= 1")
        if self.progress_interval <= 0 or self.stall_timeout <= self.progress_interval:
            raise ValueError("need 0 < progress_interval < stall_timeout")
        if self.backoff_initial <= 0 or self.backoff_max < self.backoff_initial:
            raise ValueError("need 0 < backoff_initial <= backoff_max")


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """Everything a client needs; build one and pass it, or pass keywords to the client.

    * ``endpoints``: ``"host:port"`` (or ``http://``/``https://`` URLs; the
      scheme is dropped, TLS comes from ``tls``);
    * ``dial_timeout``: how long to wait for a connection to one endpoint;
    * ``request_timeout``: deadline of each unary call (None: no deadline);
    * ``keepalive_time``/``keepalive_timeout``: HTTP/2 pings on idle
      connections (None: off), so a dead peer is noticed;
    * ``max_send_bytes``/``max_recv_bytes``: gRPC message limits;
    * ``username``/``password``: authenticate on connect and again whenever
      the server says the token is invalid (expired);
    * ``namespace``: prefix added to every key sent and stripped from every
      key received (clientv3's ``namespace`` package);
    * ``lost_timeout``: after this long without any working endpoint the
      connection state goes from SUSPENDED to LOST.
    """

    endpoints: tuple[str, ...] = ("127.0.0.1:2379",)
    dial_timeout: float = 5.0
    request_timeout: float | None = 10.0
    keepalive_time: float | None = None
    keepalive_timeout: float = 20.0
    max_send_bytes: int = 2 * 1024 * 1024
    max_recv_bytes: int = 2**31 - 1
    tls: TLSConfig | None = None
    username: str | None = None
    password: str | None = None
    namespace: bytes = b""
    lost_timeout: float = 30.0
    watch: WatchConfig = field(default_factory=WatchConfig)

    def __post_init__(self) -> None:
        if isinstance(self.endpoints, str):
            raise TypeError("endpoints must be a sequence of strings, not one string")
        if not self.endpoints:
            raise ValueError("at least one endpoint is required")
        endpoints = tuple(_strip_scheme(e) for e in self.endpoints)
        for e in endpoints:
            _check_endpoint(e)
        object.__setattr__(self, "endpoints", endpoints)
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.dial_timeout <= 0:
            raise ValueError("dial_timeout must be positive")
        if self.request_timeout is not None and self.request_timeout <= 0:
            raise ValueError("request_timeout must be positive or None")


def _check_endpoint(endpoint: str) -> None:
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"endpoint {endpoint!r} is not host:port")


def _strip_scheme(endpoint: str) -> str:
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            return endpoint[len(scheme) :].rstrip("/")
    return endpoint
