"""etcdkit's client for any etcd v3 server: ``AsyncClient`` (asyncio) and ``Client`` (blocking).

Both have the same methods and return the same typed responses
(``etcdkit.client.types``); every error derives from ``EtcdError``
(``etcdkit.client.exceptions`` draws the tree). See docs/client.md.
"""

from etcdkit.client._lease import LeaseKeeper
from etcdkit.client._protocol.connection import ConnectionState
from etcdkit.client._protocol.watch_core import WatchStats
from etcdkit.client._watcher import Watch
from etcdkit.client.aio import AsyncClient
from etcdkit.client.config import ClientConfig, TLSConfig, WatchConfig
from etcdkit.client.exceptions import *  # noqa: F403
from etcdkit.client.exceptions import __all__ as _exc_all
from etcdkit.client.server_errors import *  # noqa: F403
from etcdkit.client.server_errors import __all__ as _srv_all
from etcdkit.client.sync import Client, SyncLeaseKeeper, SyncWatch
from etcdkit.client.txn import Compare, Delete, Get, Put, Txn
from etcdkit.client.types import *  # noqa: F403
from etcdkit.client.types import __all__ as _types_all

__all__ = [
    "AsyncClient",
    "Client",
    "ClientConfig",
    "Compare",
    "ConnectionState",
    "Delete",
    "Get",
    "LeaseKeeper",
    "Put",
    "SyncLeaseKeeper",
    "SyncWatch",
    "TLSConfig",
    "Txn",
    "Watch",
    "WatchConfig",
    "WatchStats",
    *_exc_all,
    *_srv_all,
    *_types_all,
]
