"""etcdkit: etcd, in Python.

* ``etcdkit.embed.Server``: an etcd v3 wire-compatible server, in-process or as ``etcdkit serve``;
* ``etcdkit.Client`` / ``etcdkit.AsyncClient``: blocking and asyncio clients for any etcd (``etcdkit.client``);
* ``etcdkit.api``: the wire contract (protobuf modules, error catalogue, key ranges);
* ``etcdkit.testing``: helpers to run real etcd and our server in tests.

Heavy modules (grpc, lmdb) are imported lazily so ``import etcdkit`` stays cheap.
"""

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
# The etcd version whose API and behaviour we mirror (reported by Status and /version).
ETCD_VERSION = "3.5.0"

if TYPE_CHECKING:
    from etcdkit.client import AsyncClient, Client

__all__ = ["ETCD_VERSION", "AsyncClient", "Client", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the client pulls in grpc; `import etcdkit` must stay cheap.
    if name in ("Client", "AsyncClient"):
        from etcdkit import client

        return getattr(client, name)
    raise AttributeError(f"module 'etcdkit' has no attribute {name!r}")
