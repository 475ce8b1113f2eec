"""Blocking faces of the recipes: each drives its async twin on the blocking ``Client``'s loop thread.

There is one implementation of every recipe (the ``Async*`` classes over the
I/O-free cores); the classes here only submit its coroutines through
``_bridge.Bridge`` and wait. Callbacks and listeners registered here run on
the client's loop thread, so they must not call the blocking client or the
blocking recipes (that would deadlock; the client raises ``RuntimeError``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import Self, TypeVar

from prometheus_client import CollectorRegistry

from etcdkit.client import Client, Event, KeyValue, PutResponse
from etcdkit.recipes._bridge import Bridge
from etcdkit.recipes.cache import AsyncCache, Conflict, PendingWrite
from etcdkit.recipes.core.session import SessionState
from etcdkit.recipes.core.stm import STMCore
from etcdkit.recipes.election import AsyncElection
from etcdkit.recipes.errors import LockNotAcquiredError
from etcdkit.recipes.guarded import DEFAULT_LOCK_PREFIX, AsyncGuardedWatch, guarded_delete, guarded_put
from etcdkit.recipes.heartbeat import AsyncWatchHeartbeat, HeartbeatState
from etcdkit.recipes.lock import AsyncLock
from etcdkit.recipes.session import AsyncSession
from etcdkit.recipes.stm import AsyncSTM, Isolation

__all__ = [
    "STM",
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

R = TypeVar("R")


class Session:
    """Blocking ``AsyncSession``: a lease kept alive on the client's loop thread."""

    def __init__(self, client: Client, ttl: int = 60, *, lease_id: int = 0, suspend_after: float | None = None) -> None:
        self.client = client
        self.bridge = Bridge(client)
        self.aio: AsyncSession = self.bridge.run(
            AsyncSession.create(client.aio, ttl, lease_id=lease_id, suspend_after=suspend_after)
        )
        self._lost = threading.Event()
        self.aio.add_listener(self._on_state)

    def _on_state(self, state: SessionState) -> None:
        if state is SessionState.LOST:
            self._lost.set()

    @property
    def lease_id(self) -> int:
        return self.aio.lease_id

    @property
    def lease(self) -> int:
        """The lease ID for writing keys; raises ``SessionLostError``/``SessionClosedError``."""
        return self.aio.lease

    @property
    def ttl(self) -> int:
        return self.aio.ttl

    @property
    def state(self) -> SessionState:
        return self.aio.state

    @property
    def deadline(self) -> float:
        return self.aio.deadline

    def remaining(self) -> float:
        return self.aio.remaining()

    def check(self) -> None:
        self.aio.check()

    def add_listener(self, listener: Callable[[SessionState], None]) -> None:
        """``listener`` runs on the client's loop thread and must not block or call the client."""
        self.aio.add_listener(listener)

    def wait_lost(self, timeout: float | None = None) -> bool:
        """Block until the session is LOST (True) or ``timeout`` passes (False)."""
        return self._lost.wait(timeout)

    def close(self, *, revoke: bool = True) -> None:
        self.bridge.run(self.aio.close(revoke=revoke))
        self._lost.set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Lock:
    """Blocking ``AsyncLock`` (same contract); ``with lock:`` raises ``LockNotAcquiredError`` on timeout."""

    def __init__(self, session: Session, name: bytes | str, *, timeout: float | None = None) -> None:
        self.session = session
        self.aio = AsyncLock(session.aio, name, timeout=timeout)
        self._bridge = session.bridge

    @property
    def key(self) -> bytes:
        return self.aio.key

    @property
    def held(self) -> bool:
        return self.aio.held

    @property
    def fencing_token(self) -> int:
        return self.aio.fencing_token

    def acquire(self, timeout: float | None = None) -> bool:
        return self._bridge.run(self.aio.acquire(timeout))

    def release(self) -> None:
        self._bridge.run(self.aio.release())

    def __enter__(self) -> Self:
        if not self.acquire(self.aio.timeout):
            raise LockNotAcquiredError(f"lock {self.aio.prefix!r} not acquired within {self.aio.timeout}s")
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


class Election:
    """Blocking ``AsyncElection`` (same contract); ``observe()`` is a plain iterator."""

    def __init__(self, session: Session, name: bytes | str) -> None:
        self.session = session
        self.aio = AsyncElection(session.aio, name)
        self._bridge = session.bridge

    @property
    def key(self) -> bytes:
        return self.aio.key

    @property
    def is_leader(self) -> bool:
        return self.aio.is_leader

    @property
    def revision(self) -> int:
        return self.aio.revision

    def campaign(self, value: bytes, timeout: float | None = None) -> bool:
        return self._bridge.run(self.aio.campaign(value, timeout))

    def proclaim(self, value: bytes) -> None:
        self._bridge.run(self.aio.proclaim(value))

    def resign(self) -> None:
        self._bridge.run(self.aio.resign())

    def leader(self) -> KeyValue:
        return self._bridge.run(self.aio.leader())

    def observe(self) -> Observation:
        """Iterate leader changes; ``next(timeout=)`` bounds one wait; close() (or ``with``) ends it."""
        return Observation(self._bridge, self.aio.observe())


class Observation:
    """Blocking iterator over an async iterator driven on the client's loop."""

    def __init__(self, bridge: Bridge, it: AsyncGenerator[KeyValue, None]) -> None:
        self._bridge = bridge
        self._it = it

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> KeyValue:
        return self.next()

    def next(self, timeout: float | None = None) -> KeyValue:
        """The next leader change; ``TimeoutError`` after ``timeout`` (the observation then ends)."""
        try:
            return self._bridge.run(self._it.__anext__(), timeout)
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self._bridge.run(self._it.aclose())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class STM:
    """Blocking view of one STM attempt (see ``AsyncSTM``)."""

    def __init__(self, bridge: Bridge, view: AsyncSTM) -> None:
        self._bridge = bridge
        self.aio = view

    def get(self, key: bytes) -> bytes | None:
        return self._bridge.run(self.aio.get(key))

    def get_kv(self, key: bytes) -> KeyValue | None:
        return self._bridge.run(self.aio.get_kv(key))

    def put(self, key: bytes, value: bytes) -> None:
        self.aio.put(key, value)

    def delete(self, key: bytes) -> None:
        self.aio.delete(key)

    @property
    def attempt(self) -> int:
        return self.aio.attempt


def run_stm(
    client: Client,
    apply: Callable[[STM], R],
    *,
    isolation: Isolation = Isolation.SERIALIZABLE_SNAPSHOT,
    max_attempts: int = 20,
) -> R:
    """Blocking ``run_stm_async``: ``apply`` runs in the calling thread, its reads on the client's loop."""
    bridge = Bridge(client)
    core = STMCore(isolation, max_attempts)
    while True:
        result = apply(STM(bridge, AsyncSTM(client.aio, core)))
        if core.committed(bridge.run(client.aio.txn(core.commit_txn()))):
            return result


class WatchHeartbeat:
    """Blocking ``AsyncWatchHeartbeat``; ``on_change`` runs on the client's loop thread."""

    def __init__(
        self,
        client: Client,
        key: bytes,
        *,
        interval: float = 1.0,
        bound: float = 5.0,
        writer: bool = True,
        on_change: Callable[[HeartbeatState, float], None] | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self._bridge = Bridge(client)
        self.aio = AsyncWatchHeartbeat(
            client.aio, key, interval=interval, bound=bound, writer=writer, on_change=on_change, registry=registry
        )

    @property
    def state(self) -> HeartbeatState:
        return self.aio.state

    @property
    def events(self) -> int:
        return self.aio.events

    def age(self) -> float:
        return self.aio.age()

    def wait_state(self, state: HeartbeatState, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.wait_state(state, timeout))

    def start(self) -> None:
        self._bridge.run(self.aio.start())

    def stop(self) -> None:
        self._bridge.run(self.aio.stop())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class GuardedWatch:
    """Blocking ``AsyncGuardedWatch``: ``handler`` runs in a worker thread, ``run()`` blocks.

    The handler may call the blocking client (it does not run on the loop thread).
    """

    def __init__(
        self,
        session: Session,
        key: bytes,
        handler: Callable[[Event], None],
        *,
        prefix: bool = False,
        lock_prefix: bytes = DEFAULT_LOCK_PREFIX,
        skip_stale: bool = True,
        start_revision: int = 0,
    ) -> None:
        async def in_thread(event: Event) -> None:
            await asyncio.to_thread(handler, event)

        self._bridge = session.bridge
        self.aio = AsyncGuardedWatch(
            session.aio,
            key,
            in_thread,
            prefix=prefix,
            lock_prefix=lock_prefix,
            skip_stale=skip_stale,
            start_revision=start_revision,
        )
        self.ready = threading.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def handled(self) -> int:
        return self.aio.handled

    @property
    def skipped(self) -> int:
        return self.aio.skipped

    def run(self) -> None:
        """Handle events until ``stop()`` (returns) or a handler error (raised here)."""

        async def start() -> asyncio.Task[None]:
            return asyncio.get_running_loop().create_task(self.aio.run(self.ready.set))

        self._task = self._bridge.run(start())

        async def join(task: asyncio.Task[None]) -> None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

        self._bridge.run(join(self._task))

    def stop(self) -> None:
        """End ``run()`` (from another thread); the handler in progress finishes first."""
        self._bridge.run(self.aio.stop())


def guarded_put_sync(
    session: Session,
    key: bytes,
    value: bytes,
    *,
    lock_prefix: bytes = DEFAULT_LOCK_PREFIX,
    timeout: float | None = None,
) -> PutResponse:
    """Blocking ``guarded_put``."""
    return session.bridge.run(guarded_put(session.aio, key, value, lock_prefix=lock_prefix, timeout=timeout))


def guarded_delete_sync(
    session: Session, key: bytes, *, lock_prefix: bytes = DEFAULT_LOCK_PREFIX, timeout: float | None = None
) -> int:
    """Blocking ``guarded_delete``."""
    return session.bridge.run(guarded_delete(session.aio, key, lock_prefix=lock_prefix, timeout=timeout))


class Cache:
    """Blocking ``AsyncCache``: reads are local (no loop hop); writes and lifecycle run on the loop.

    ``on_conflict`` and listeners run on the client's loop thread.
    """

    def __init__(
        self,
        client: Client,
        prefix: bytes,
        *,
        path: str | os.PathLike[str] | None = None,
        write_back: bool = True,
        on_conflict: Callable[[Conflict], None] | None = None,
        persist_interval: float = 0.2,
        retry_interval: float = 0.5,
    ) -> None:
        self._bridge = Bridge(client)
        self.aio = AsyncCache(
            client.aio,
            prefix,
            path=path,
            write_back=write_back,
            on_conflict=on_conflict,
            persist_interval=persist_interval,
            retry_interval=retry_interval,
        )

    def get(self, key: bytes) -> bytes | None:
        return self.aio.get(key)

    def get_kv(self, key: bytes) -> KeyValue | None:
        return self.aio.get_kv(key)

    def items(self) -> list[tuple[bytes, bytes]]:
        return self.aio.items()

    def __contains__(self, key: bytes) -> bool:
        return key in self.aio

    def __len__(self) -> int:
        return len(self.aio)

    @property
    def revision(self) -> int:
        return self.aio.revision

    @property
    def stale(self) -> bool:
        return self.aio.stale

    def staleness(self) -> float:
        return self.aio.staleness()

    @property
    def pending(self) -> list[PendingWrite]:
        return self.aio.pending

    @property
    def conflicts(self) -> list[Conflict]:
        return self.aio.conflicts

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        self.aio.add_listener(listener)

    def put(self, key: bytes, value: bytes) -> None:
        self._bridge.run(self.aio.put(key, value))

    def delete(self, key: bytes) -> None:
        self._bridge.run(self.aio.delete(key))

    def flush(self, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.flush(timeout))

    def wait_synced(self, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.wait_synced(timeout))

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until ``predicate()`` (evaluated on the loop thread; must not block) holds."""
        self._bridge.run(self.aio.wait_for(predicate, timeout))

    def start(self, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.start(timeout))

    def close(self) -> None:
        self._bridge.run(self.aio.close())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
