"""A running member: the ``EtcdServer`` core behind a grpc.aio server and the HTTP listener.

``Member.start()`` binds every listener (port 0 picks a free port; the bound
addresses are in ``client_addresses`` / ``metrics_addresses``) and returns
when the member serves; ``Member.stop()`` stops accepting, cancels streams,
finishes in-flight applies and closes the store.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import grpc
from prometheus_client import CollectorRegistry, Gauge, Histogram

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.server.config import ServerConfig
from etcdkit.server.etcdserver import EtcdServer
from etcdkit.server.http import HTTPListener
from etcdkit.server.lease.expiry import start_expiry
from etcdkit.server.rpc.auth import register as register_auth
from etcdkit.server.rpc.cluster import ClusterServicer
from etcdkit.server.rpc.kv import KVServicer
from etcdkit.server.rpc.lease import register as register_lease
from etcdkit.server.rpc.maintenance import MaintenanceServicer
from etcdkit.server.rpc.util import add_servicer
from etcdkit.server.rpc.watch import register as register_watch
from etcdkit.server.watch import build_hub

__all__ = ["Member", "host_port"]

log = logging.getLogger("etcdkit.server")


def host_port(url: str) -> tuple[str, int]:
    """``http://127.0.0.1:2379`` -> ("127.0.0.1", 2379); bare ``host:port`` accepted."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"invalid URL {url!r}: need scheme://host:port")
    return parts.hostname, parts.port


class Member:
    """One etcd member serving gRPC (client URLs) and HTTP (metrics URLs)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.registry = CollectorRegistry(auto_describe=True)
        self.server: EtcdServer | None = None
        self.grpc: grpc.aio.Server | None = None
        self.http: list[HTTPListener] = []
        self.client_addresses: list[tuple[str, int]] = []
        self.services: list[Any] = []

    async def start(self) -> None:
        cfg = self.config
        hub = build_hub(cfg, self.registry)
        self.server = s = EtcdServer(cfg, hub=hub)
        hub.source = s  # the hub reads history through the server
        self.grpc = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", cfg.grpc_max_recv_bytes),
                ("grpc.max_send_message_length", 2**31 - 1),
                ("grpc.keepalive_permit_without_calls", 1),
                ("grpc.http2.min_ping_interval_without_data_ms", 5000),
                ("grpc.so_reuseport", 0),
            ]
        )
        add_servicer(rpc_pb2_grpc.add_KVServicer_to_server, KVServicer(s), self.grpc)
        add_servicer(rpc_pb2_grpc.add_MaintenanceServicer_to_server, MaintenanceServicer(s), self.grpc)
        add_servicer(rpc_pb2_grpc.add_ClusterServicer_to_server, ClusterServicer(s), self.grpc)
        register_auth(s, self.grpc)
        register_watch(s, self.grpc)
        register_lease(s, self.grpc)  # Lease, Lock and Election
        for url in cfg.listen_client_urls:
            host, port = host_port(url)
            bound = self.grpc.add_insecure_port(f"{host}:{port}")
            self.client_addresses.append((host, bound))
        self._metrics(s)
        await s.start()
        start_expiry(s)
        await self.grpc.start()
        for url in cfg.listen_metrics_urls:
            host, port = host_port(url)
            listener = HTTPListener(host, port, self.registry, self._health)
            await listener.start()
            self.http.append(listener)

    def _health(self) -> tuple[bool, str]:
        s = self.server
        if s is None:
            return False, "not started"
        for _, alarm in sorted(s.alarms):
            return False, f"ALARM {rpc_pb2.AlarmType.Name(alarm)}"  # type: ignore[arg-type]
        return True, ""

    def _metrics(self, s: EtcdServer) -> None:
        r = self.registry
        fsync = Histogram(
            "etcd_disk_wal_fsync_duration_seconds", "Latency of WAL appends (write + fdatasync) in seconds.",
            buckets=tuple(0.001 * 2**i for i in range(14)), registry=r,
        )
        s.on_wal_sync = fsync.observe
        Gauge("etcd_server_has_leader", "Whether a leader exists (1) or not (0).", registry=r).set(1)
        Gauge("etcd_server_is_leader", "Whether this member is the leader.", registry=r).set(1)
        Gauge("etcd_mvcc_db_total_size_in_bytes", "Backend file size.", registry=r).set_function(
            lambda: self.server.backend.size() if self.server else 0
        )
        Gauge("etcd_debugging_mvcc_current_revision", "Current revision.", registry=r).set_function(
            lambda: self.server.current_revision() if self.server else 0
        )
        Gauge("etcd_debugging_mvcc_compact_revision", "Last compaction revision.", registry=r).set_function(
            lambda: self.server.compact_revision() if self.server else 0
        )
        Gauge("etcd_server_proposals_applied_total", "Applied log entries.", registry=r).set_function(
            lambda: self.server.store.applied_index if self.server else 0
        )

    async def stop(self, grace: float = 2.0) -> None:
        for listener in self.http:
            await listener.stop()
        if self.grpc is not None:
            await self.grpc.stop(grace)
        if self.server is not None:
            await self.server.stop()
