"""etcdkit recipes: sessions, locks, elections, STM, watch heartbeat, lock-guarded handlers, cache.

Every recipe exists twice with one implementation: ``Async*`` classes for
asyncio (over ``etcdkit.client.AsyncClient``), and blocking classes without
the prefix (over ``etcdkit.client.Client``) that drive the async ones on the
client's loop thread. The stateful logic lives in ``etcdkit.recipes.core``:
I/O-free state machines with the clock passed in. Keys follow Go clientv3's
``concurrency`` package and etcd's Lock/Election services, so recipes
interoperate with them on any etcd v3 server. See docs/recipes.md.
"""

from etcdkit.recipes.cache import AsyncCache, Conflict, PendingWrite
from etcdkit.recipes.core.session import SessionState
from etcdkit.recipes.election import AsyncElection
from etcdkit.recipes.errors import *  # noqa: F403
from etcdkit.recipes.errors import __all__ as _errors_all
from etcdkit.recipes.guarded import AsyncGuardedWatch, guarded_delete, guarded_put, lock_name
from etcdkit.recipes.heartbeat import AsyncWatchHeartbeat, HeartbeatState
from etcdkit.recipes.lock import AsyncLock
from etcdkit.recipes.session import AsyncSession
from etcdkit.recipes.stm import AsyncSTM, Isolation, run_stm_async
from etcdkit.recipes.sync import (
    STM,
    Cache,
    Election,
    GuardedWatch,
    Lock,
    Observation,
    Session,
    WatchHeartbeat,
    guarded_delete_sync,
    guarded_put_sync,
    run_stm,
)

__all__ = [
    "AsyncCache",
    "Cache",
    "Conflict",
    "PendingWrite",
    "AsyncElection",
    "AsyncGuardedWatch",
    "AsyncLock",
    "GuardedWatch",
    "guarded_delete",
    "guarded_delete_sync",
    "guarded_put",
    "guarded_put_sync",
    "lock_name",
    "AsyncSTM",
    "AsyncWatchHeartbeat",
    "HeartbeatState",
    "WatchHeartbeat",
    "Isolation",
    "STM",
    "run_stm",
    "run_stm_async",
    "Election",
    "AsyncSession",
    "Lock",
    "Observation",
    "Session",
    "SessionState",
    *_errors_all,
]
