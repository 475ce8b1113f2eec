"""The server's one exception type: an etcd wire error raised anywhere in the
server core and turned into a gRPC status (code + exact message) by ``rpc``."""

from __future__ import annotations

from etcdkit.api.errors import WireError

__all__ = ["EtcdServerError"]


class EtcdServerError(Exception):
    """Raised by server cores; carries the catalogue entry to send on the wire."""

    def __init__(self, wire: WireError) -> None:
        super().__init__(wire.message)
        self.wire = wire
