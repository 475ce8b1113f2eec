"""``ServerConfig``: every tunable of a server, frozen, with etcd's defaults.

Field names follow etcd's flags (``--max-request-bytes`` -> ``max_request_bytes``).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_QUOTA_BYTES", "ServerConfig", "cluster_id", "member_id"]

DEFAULT_QUOTA_BYTES = 2 << 30
GRPC_OVERHEAD_BYTES = 512 * 1024


@dataclass(frozen=True)
class ServerConfig:
    """A member's configuration (see ``etcdkit serve --help``)."""

    name: str = "default"
    data_dir: Path = Path("default.etcd")
    listen_client_urls: tuple[str, ...] = ("http://127.0.0.1:2379",)
    advertise_client_urls: tuple[str, ...] = ("http://127.0.0.1:2379",)
    listen_metrics_urls: tuple[str, ...] = ()
    initial_advertise_peer_urls: tuple[str, ...] = ("http://localhost:2380",)
    initial_cluster: str = ""
    initial_cluster_token: str = "etcd-cluster"
    initial_cluster_state: str = "new"
    quota_backend_bytes: int = 0
    max_request_bytes: int = 1572864
    max_txn_ops: int = 128
    auto_compaction_mode: str = "periodic"
    auto_compaction_retention: str = "0"
    log_level: str = "info"
    unsafe_no_fsync: bool = False
    heartbeat_interval_ms: int = 100
    election_timeout_ms: int = 1000
    watch_progress_notify_interval: float = 600.0
    auth_token_ttl: float = 300.0
    bcrypt_cost: int = 10
    checkpoint_entries: int = 10000
    checkpoint_interval: float = 5.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def quota_bytes(self) -> int:
        """Effective backend quota: 0 means etcd's 2 GiB default, negative means none."""
        if self.quota_backend_bytes == 0:
            return DEFAULT_QUOTA_BYTES
        return self.quota_backend_bytes

    @property
    def min_lease_ttl(self) -> int:
        """etcd's minimum lease TTL: ceil(1.5 x election timeout) in seconds."""
        return max(1, -(-3 * self.election_timeout_ms // 2000))

    @property
    def grpc_max_recv_bytes(self) -> int:
        return self.max_request_bytes + GRPC_OVERHEAD_BYTES

    def peer_urls(self) -> tuple[str, ...]:
        """This member's peer URLs: from --initial-cluster if it names us, else advertised ones."""
        urls = [u for n, u in self._cluster_pairs() if n == self.name]
        return tuple(urls) if urls else self.initial_advertise_peer_urls

    def _cluster_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for item in filter(None, self.initial_cluster.split(",")):
            name, _, url = item.partition("=")
            pairs.append((name.strip(), url.strip()))
        return pairs


def member_id(peer_urls: tuple[str, ...] | list[str], token: str) -> int:
    """etcd's member id: first 8 bytes (big-endian) of SHA-1(sorted peer URLs + cluster token)."""
    data = "".join(sorted(peer_urls)).encode() + token.encode()
    return int(struct.unpack(">Q", hashlib.sha1(data).digest()[:8])[0])


def cluster_id(member_ids: list[int]) -> int:
    """etcd's cluster id: first 8 bytes of SHA-1 over the sorted member ids (8-byte big-endian each)."""
    data = b"".join(struct.pack(">Q", m) for m in sorted(member_ids))
    return int(struct.unpack(">Q", hashlib.sha1(data).digest()[:8])[0])
