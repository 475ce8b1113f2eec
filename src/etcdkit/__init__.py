"""etcdkit: etcd, in Python.

* ``etcdkit.embed.Server``: an etcd v3 wire-compatible server, in-process or as ``etcdkit serve``;
* ``etcdkit.api``: the wire contract (protobuf modules, error catalogue, key ranges);
* ``etcdkit.testing``: helpers to run real etcd and our server in tests.

Heavy modules (grpc, lmdb) are imported lazily so ``import etcdkit`` stays cheap.
"""

__version__ = "0.1.0"
# The etcd version whose API and behaviour we mirror (reported by Status and /version).
ETCD_VERSION = "3.5.0"

__all__ = ["ETCD_VERSION", "__version__"]
