"""Blocking faces of the recipes: each drives its async twin on the blocking ``Client``'s loop thread.

There is one implementation of every recipe (the ``Async*`` classes over the
I/O-free cores); the classes here only submit its coroutines through
``_bridge.Bridge`` and wait. Exception: ``Lock.acquire``/``release`` and
``Election.campaign`` run in the calling thread, over the same algorithm
with blocking I/O (``_turn``; see docs/recipes.md). Callbacks and listeners registered here run on
the client's loop thread, so they must not call the blocking client or the
blocking recipes (that would deadlock; the client raises ``RuntimeError``).
"""

from etcdkit.recipes.sync._coordination import Election, Lock, Observation, Session
from etcdkit.recipes.sync._data import STM, Cache, run_stm
from etcdkit.recipes.sync._watching import GuardedWatch, WatchHeartbeat, guarded_delete_sync, guarded_put_sync

__all__ = [
    "STM",
    "Cache",
    "Election",
    "GuardedWatch",
    "Lock",
    "Observation",
    "Session",
    "WatchHeartbeat",
    "guarded_delete_sync",
    "guarded_put_sync",
    "run_stm",
]
