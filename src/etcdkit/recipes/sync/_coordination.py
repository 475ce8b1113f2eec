"""Blocking sessions, locks and elections (see ``etcdkit.recipes.sync``)."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import Self

from etcdkit.client import Client, KeyValue
from etcdkit.recipes._bridge import Bridge
from etcdkit.recipes.core.mutex import abandon_txn, campaign_outcome, enqueue_txn
from etcdkit.recipes.core.session import SessionState
from etcdkit.recipes.election import AsyncElection
from etcdkit.recipes.errors import LockNotAcquiredError
from etcdkit.recipes.lock import AMBIGUOUS, AsyncLock
from etcdkit.recipes.session import AsyncSession

__all__ = ["Election", "Lock", "Observation", "Session"]


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
        """``AsyncLock.acquire``'s contract. The enqueue txn runs in the calling thread (blocking
        transport, no loop hop), so an uncontended acquire costs one round trip; only a
        contender that must wait, or whose first enqueue had an ambiguous outcome (the async
        path retries the idempotent txn), continues on the client's loop."""
        deadline = None if timeout is None else time.monotonic() + timeout
        aio = self.aio
        aio.session.check()
        try:
            resp = self.session.client.txn(enqueue_txn(aio.prefix, aio.key, b"", aio.session.lease))
        except AMBIGUOUS:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return self._bridge.run(aio.acquire(left))
        c = campaign_outcome(aio.key, b"", resp)
        if c.owns:
            aio._took(c)
            return True
        return self._bridge.run(aio._queued(c, deadline))

    def release(self) -> None:
        """``AsyncLock.release``'s contract; the delete runs in the calling thread."""
        self.session.client.txn(abandon_txn(self.aio.key, self.aio._handed_back()))

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
