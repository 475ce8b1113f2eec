"""``Client``: the blocking client — the ``AsyncClient``'s code, driven without a thread hop.

Why not a generated twin (httpcore's unasync)? Two halves:

* Unary calls (KV, lease, cluster, maintenance, auth) run the *same*
  coroutine methods as ``AsyncClient`` on a view whose transport
  (``_sync_transport.SyncTransport``) does blocking gRPC and never
  suspends; ``drive`` runs each coroutine to completion on the caller's
  thread. One source of truth, the speed of a bare blocking stub.
* Long-lived state — the watch stream shared by every watch, keep-alives,
  snapshot streaming — runs in an ``AsyncClient`` on one private daemon
  event-loop thread; ``watch``/``keep_alive``/``snapshot`` submit to it.

Every method below is one line derived from the async method
(``_blocking`` keeps its exact signature for type checkers and ``help()``).

Contract:

* thread-safe: any number of threads may share one ``Client``;
* ``close()`` (or leaving ``with``) closes both transports, stops the loop
  and joins its thread: nothing is left running;
* after ``fork()`` the child's copy is unusable: every call raises
  ``ClientClosedError``; create a new client there (and prefer to close
  clients before forking: gRPC itself may crash a child forked while its
  channels are active);
* state listeners run on whichever thread saw the change (the loop thread
  for watches and keep-alives); ``on_lost`` runs on the loop thread. Watch
  and keep-alive calls from the loop thread itself would deadlock and raise
  ``RuntimeError``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import os
import queue
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterator
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

from etcdkit.client._admin import AdminMixin
from etcdkit.client._convert import Namespace
from etcdkit.client._kv import KVMixin
from etcdkit.client._lease import LeaseKeeper, LeaseMixin
from etcdkit.client._protocol.connection import ConnectionState
from etcdkit.client._protocol.watch_core import WatchStats
from etcdkit.client._sync_stream import DeletionWatch
from etcdkit.client._sync_transport import SyncTransport, drive
from etcdkit.client._watcher import Watch
from etcdkit.client.aio import AsyncClient
from etcdkit.client.config import ClientConfig
from etcdkit.client.exceptions import ClientClosedError, LeaseKeepAliveLostError
from etcdkit.client.types import WatchBatch

__all__ = ["Client", "SyncLeaseKeeper", "SyncWatch"]

P = ParamSpec("P")
R = TypeVar("R")


class _Loop:
    """An event loop on a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="etcdkit-client-loop", daemon=True)
        self.thread.start()
        self.pid = os.getpid()

    def run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        if os.getpid() != self.pid:
            coro.close()
            raise ClientClosedError("client was created before fork(); create a new client in this process")
        if threading.current_thread() is self.thread:
            coro.close()
            raise RuntimeError("blocking etcdkit client called from its own loop thread (a callback?)")
        if self.loop.is_closed():
            coro.close()
            raise ClientClosedError("client is closed")
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise

    def stop(self) -> None:
        _stop(self.loop, self.thread, self.pid)


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread, pid: int) -> None:
    if os.getpid() != pid or loop.is_closed():
        return
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    if not thread.is_alive():
        loop.close()


class _SyncView(KVMixin, LeaseMixin, AdminMixin):
    """The async API methods bound to the never-suspending sync transport."""

    _transport: SyncTransport

    def __init__(self, transport: SyncTransport, ns: Namespace) -> None:
        self._transport = transport
        self._ns = ns


def _blocking(
    method: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Client, P], R]:
    """Turn an ``AsyncClient`` coroutine method into the same blocking method of ``Client``."""

    def wrapper(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return drive(method(self._view, *args, **kwargs))

    wrapper.__name__ = method.__name__
    wrapper.__qualname__ = f"Client.{method.__name__}"
    wrapper.__doc__ = method.__doc__
    wrapper.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]  # for help() and IDEs
    return wrapper


class SyncWatch:
    """Blocking view of a ``Watch``: iterate for ``WatchBatch`` objects.

    On the first ``next()`` a pump task on the client's loop starts moving
    the watch's batches (and its end or error) into a thread-safe queue;
    ``next()`` then only waits on that queue: no loop round trip per batch.
    After that, consume the watch through this object only (not ``aio``).
    """

    def __init__(self, loop: _Loop, watch: Watch, pumps: set[asyncio.Task[None]]) -> None:
        self._loop = loop
        self.aio = watch
        self._pumps = pumps
        self._queue: queue.SimpleQueue[WatchBatch | BaseException | None] | None = None
        self._ended = False
        self._error: BaseException | None = None

    def __iter__(self) -> Iterator[WatchBatch]:
        return self

    def __next__(self) -> WatchBatch:
        batch = self.next()
        if batch is None:
            raise StopIteration
        return batch

    def next(self, timeout: float | None = None) -> WatchBatch | None:
        """The next batch; None when the watch ended; ``TimeoutError`` after ``timeout`` (nothing lost)."""
        if self._ended:
            if self._error is not None:
                raise self._error
            return None
        q = self._queue
        if q is None:
            q = self._queue = queue.SimpleQueue()
            self._loop.run(self._start_pump(q))
        elif os.getpid() != self._loop.pid:
            raise ClientClosedError("client was created before fork(); create a new client in this process")
        elif threading.current_thread() is self._loop.thread:
            raise RuntimeError("blocking etcdkit watch read from the client's own loop thread (a callback?)")
        try:
            item = q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no watch batch within {timeout}s") from None
        if item is None:
            self._ended = True
            return None
        if isinstance(item, BaseException):
            self._ended = True
            self._error = item
            raise item
        return item

    async def _start_pump(self, q: queue.SimpleQueue[WatchBatch | BaseException | None]) -> None:
        task = asyncio.get_running_loop().create_task(self._pump(q), name="etcdkit-sync-watch-pump")
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)

    async def _pump(self, q: queue.SimpleQueue[WatchBatch | BaseException | None]) -> None:
        end: BaseException | None = None
        try:
            async for batch in self.aio:
                q.put(batch)
        except asyncio.CancelledError:
            self._finish(q, ClientClosedError("client closed"))
            raise
        except Exception as e:  # the watch's own error (compacted, client closed...)
            end = e
        self._finish(q, end)

    def _finish(self, q: queue.SimpleQueue[WatchBatch | BaseException | None], end: BaseException | None) -> None:
        # Leave the client's pump set before the reader can see the end (the done
        # callback alone would run only after the reader may have returned).
        task = asyncio.current_task()
        if task is not None:
            self._pumps.discard(task)
        q.put(end)

    @property
    def stats(self) -> WatchStats:
        return self.aio.stats

    def close(self) -> None:
        self._loop.run(self.aio.close())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SyncLeaseKeeper:
    """Blocking view of a ``LeaseKeeper``."""

    def __init__(self, loop: _Loop, keeper: LeaseKeeper) -> None:
        self._loop = loop
        self.aio = keeper

    @property
    def lease_id(self) -> int:
        return self.aio.lease_id

    @property
    def alive(self) -> bool:
        return self.aio.alive

    @property
    def error(self) -> LeaseKeepAliveLostError | None:
        return self.aio.error

    def wait_lost(self, timeout: float | None = None) -> LeaseKeepAliveLostError:
        return self._loop.run(self.aio.wait_lost(), timeout)

    def close(self) -> None:
        self._loop.run(self.aio.close())


class Client:
    """The blocking etcd client: same methods, arguments and results as ``AsyncClient``."""

    def __init__(self, config: ClientConfig | None = None, **kwargs: Any) -> None:
        self.aio = AsyncClient(config, **kwargs)
        self.config = self.aio.config
        self._view = _SyncView(SyncTransport(self.aio._transport), self.aio._ns)
        self._loop = _Loop()
        self._pumps: set[asyncio.Task[None]] = set()  # SyncWatch pump tasks (on the loop)
        self._finalizer = weakref.finalize(self, _stop, self._loop.loop, self._loop.thread, self._loop.pid)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the async client, stop the loop thread and join it. Idempotent."""
        if os.getpid() != self._loop.pid or self._loop.loop.is_closed():
            return
        try:
            drive(self._view._transport.close())
            self._loop.run(self._close_async())
        finally:
            self._finalizer()

    async def _close_async(self) -> None:
        await self.aio.close()  # fails every watch: each pump hands that on and ends
        if self._pumps:
            _, pending = await asyncio.wait(set(self._pumps), timeout=5.0)
            for t in pending:  # pragma: no cover - a pump did not end; do not hang close()
                t.cancel()

    @property
    def closed(self) -> bool:
        return self.aio.closed or self._loop.loop.is_closed()

    @property
    def state(self) -> ConnectionState:
        return self.aio.state

    @property
    def endpoint(self) -> str:
        return self.aio.endpoint

    def add_state_listener(self, listener: Callable[[ConnectionState], None]) -> None:
        """``listener`` runs on the client's loop thread; it must not call the client."""
        self.aio.add_state_listener(listener)

    def remove_state_listener(self, listener: Callable[[ConnectionState], None]) -> None:
        self.aio.remove_state_listener(listener)

    def _deletion_watch(self, key: bytes, *, prefix: bool, life: float) -> DeletionWatch:
        """Package-private (the blocking recipes): deletions of ``key`` (or the prefix), read in the
        calling thread; see ``client._sync_stream``."""
        return DeletionWatch.open(self._view._transport, self._view._ns, key, prefix=prefix, life=life)

    def watch(self, key: bytes, **kwargs: Any) -> SyncWatch:
        """Same arguments as ``AsyncClient.watch``."""
        return SyncWatch(self._loop, self._loop.run(self.aio.watch(key, **kwargs)), self._pumps)

    def snapshot(self, path: str | os.PathLike[str], endpoint: str | None = None) -> int:
        """Same as ``AsyncClient.snapshot`` (streamed on the loop thread)."""
        return self._loop.run(self.aio.snapshot(path, endpoint))

    def keep_alive(
        self, lease_id: int, ttl: int, *, on_lost: Callable[[LeaseKeepAliveLostError], None] | None = None
    ) -> SyncLeaseKeeper:
        """Same as ``AsyncClient.keep_alive``; ``on_lost`` runs on the loop thread."""
        return SyncLeaseKeeper(self._loop, self._loop.run(self.aio.keep_alive(lease_id, ttl, on_lost=on_lost)))

    # KV
    get = _blocking(AsyncClient.get)
    get_op = _blocking(AsyncClient.get_op)
    put = _blocking(AsyncClient.put)
    delete = _blocking(AsyncClient.delete)
    txn = _blocking(AsyncClient.txn)
    compact = _blocking(AsyncClient.compact)
    # Lease
    lease_grant = _blocking(AsyncClient.lease_grant)
    lease_revoke = _blocking(AsyncClient.lease_revoke)
    lease_time_to_live = _blocking(AsyncClient.lease_time_to_live)
    leases = _blocking(AsyncClient.leases)
    # Cluster
    member_list = _blocking(AsyncClient.member_list)
    member_add = _blocking(AsyncClient.member_add)
    member_remove = _blocking(AsyncClient.member_remove)
    member_update = _blocking(AsyncClient.member_update)
    member_promote = _blocking(AsyncClient.member_promote)
    # Maintenance
    status = _blocking(AsyncClient.status)
    hash_kv = _blocking(AsyncClient.hash_kv)
    defragment = _blocking(AsyncClient.defragment)
    alarms = _blocking(AsyncClient.alarms)
    alarm_disarm = _blocking(AsyncClient.alarm_disarm)
    move_leader = _blocking(AsyncClient.move_leader)
    # Auth
    auth_enable = _blocking(AsyncClient.auth_enable)
    auth_disable = _blocking(AsyncClient.auth_disable)
    auth_status = _blocking(AsyncClient.auth_status)
    authenticate = _blocking(AsyncClient.authenticate)
    user_add = _blocking(AsyncClient.user_add)
    user_get = _blocking(AsyncClient.user_get)
    user_list = _blocking(AsyncClient.user_list)
    user_delete = _blocking(AsyncClient.user_delete)
    user_change_password = _blocking(AsyncClient.user_change_password)
    user_grant_role = _blocking(AsyncClient.user_grant_role)
    user_revoke_role = _blocking(AsyncClient.user_revoke_role)
    role_add = _blocking(AsyncClient.role_add)
    role_get = _blocking(AsyncClient.role_get)
    role_list = _blocking(AsyncClient.role_list)
    role_delete = _blocking(AsyncClient.role_delete)
    role_grant_permission = _blocking(AsyncClient.role_grant_permission)
    role_revoke_permission = _blocking(AsyncClient.role_revoke_permission)
