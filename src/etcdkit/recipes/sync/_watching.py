"""Blocking watch heartbeat and lock-guarded watch handling (see ``etcdkit.recipes.sync``)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

from prometheus_client import CollectorRegistry

from etcdkit.client import Client, Event, PutResponse
from etcdkit.recipes._bridge import Bridge
from etcdkit.recipes.guarded import DEFAULT_LOCK_PREFIX, AsyncGuardedWatch, guarded_delete, guarded_put
from etcdkit.recipes.heartbeat import AsyncWatchHeartbeat, HeartbeatState
from etcdkit.recipes.sync._coordination import Session

__all__ = ["GuardedWatch", "WatchHeartbeat", "guarded_delete_sync", "guarded_put_sync"]


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
