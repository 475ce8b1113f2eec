"""Blocking sessions, locks and elections (see ``etcdkit.recipes.sync``)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import Self

from etcdkit.client import Client, Delete, EtcdError, KeyValue, Put
from etcdkit.client._sync_transport import drive
from etcdkit.recipes._bridge import Bridge
from etcdkit.recipes._queue import TurnTimeout, wait_turn_with
from etcdkit.recipes.core.mutex import Contender, abandon_txn, campaign_outcome, enqueue_txn, if_still_mine
from etcdkit.recipes.core.session import SessionState
from etcdkit.recipes.election import AsyncElection
from etcdkit.recipes.errors import LockNotAcquiredError
from etcdkit.recipes.lock import AMBIGUOUS, AsyncLock
from etcdkit.recipes.session import AsyncSession
from etcdkit.recipes.sync._turn import BlockingTurnIO

__all__ = ["Election", "Lock", "Observation", "Session"]

log = logging.getLogger("etcdkit.recipes.lock")


class Session:
    """Blocking ``AsyncSession``: a lease kept alive on the client's loop thread."""

    def __init__(self, client: Client, ttl: int = 60, *, lease_id: int = 0, suspend_after: float | None = None) -> None:
        self.client = client
        self.bridge = Bridge(client)
        self.aio: AsyncSession = self.bridge.run(
            AsyncSession.create(client.aio, ttl, lease_id=lease_id, suspend_after=suspend_after)
        )
        self._lost = threading.Event()
        self._enders: set[Callable[[], None]] = set()  # see _on_end
        self._enders_lock = threading.Lock()
        self.aio.add_listener(self._on_state)

    def _on_state(self, state: SessionState) -> None:
        if state is SessionState.LOST:
            self._lost.set()
            self._ended()

    def _on_end(self, cancel: Callable[[], None]) -> Callable[[], None]:
        """Package-private (the blocking waits): call ``cancel`` (from any thread, once) when the
        session is lost or closed, at once if it already is; returns the unregistering function."""
        with self._enders_lock:
            self._enders.add(cancel)
        if self._lost.is_set():
            cancel()
        return lambda: self._enders.discard(cancel)

    def _ended(self) -> None:
        with self._enders_lock:
            enders = list(self._enders)
        for cancel in enders:
            cancel()

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
        self._ended()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _enqueue_here(session: Session, prefix: bytes, key: bytes, value: bytes) -> Contender | None:
    """Run the enqueue txn in the calling thread; None when its outcome is ambiguous (the caller
    then continues on the client's loop, where the async recipe retries the idempotent txn)."""
    session.check()
    try:
        resp = session.client.txn(enqueue_txn(prefix, key, value, session.lease))
    except AMBIGUOUS:
        return None
    return campaign_outcome(key, value, resp)


def _turn_here(
    session: Session,
    prefix: bytes,
    c: Contender,
    deadline: float | None,
    give_up: Callable[[int], None],
    *,
    first: Callable[[], None] | None = None,
) -> bool:
    """Run ``first`` (if given), then wait in the calling thread until ``c``'s turn comes (the
    asyncio recipes' algorithm over ``sync._turn.BlockingTurnIO``). True once it is ours; at
    ``deadline`` ``give_up(c.revision)`` and False; on any error ``give_up(c.revision)`` and raise."""
    try:
        if first is not None:
            first()
        if not c.owns:
            io = BlockingTurnIO(session, prefix, c.key, c.revision, deadline)
            drive(wait_turn_with(io, deadline, c.blockers))
    except TurnTimeout:
        give_up(c.revision)
        return False
    except BaseException:
        give_up(c.revision)
        raise
    return True


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
        """``AsyncLock.acquire``'s contract, run in the calling thread: the enqueue txn on the
        blocking transport (an uncontended acquire is one round trip), and a contender that
        must wait does so here too (``AsyncLock``'s algorithm over ``sync._turn.BlockingTurnIO``:
        deletion watches read in this thread). Only an enqueue whose outcome was ambiguous
        continues on the client's loop (the async path retries the idempotent txn)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        aio = self.aio
        c = _enqueue_here(self.session, aio.prefix, aio.key, b"")
        if c is None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return self._bridge.run(aio.acquire(left))
        if c.owns:
            aio._took(c)
            return True
        if not _turn_here(self.session, aio.prefix, c, deadline, self._give_up):
            return False
        aio._waited(c)
        return True

    def _give_up(self, revision: int) -> None:
        try:
            self.session.client.txn(abandon_txn(self.aio.key, revision))
        except EtcdError as e:
            msg = "could not remove queued lock key %r (%s); release() or the session's end will"
            log.warning(msg, self.aio.key, e)

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
        """``AsyncElection.campaign``'s contract, run in the calling thread as ``Lock.acquire`` is
        (enqueue, proclaim and the wait for one's turn); an enqueue whose outcome was ambiguous
        continues on the client's loop (the async path retries the idempotent txn)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        aio = self.aio
        c = _enqueue_here(self.session, aio.prefix, aio.key, value)
        if c is None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            return self._bridge.run(aio.campaign(value, left))

        def proclaim_if_retried() -> None:
            if c.value != value:  # our key existed already (a retry): proclaim the new value
                txn = if_still_mine(c.key, c.revision, Put(c.key, value, lease=aio.session.lease))
                self.session.client.txn(txn)

        if not _turn_here(self.session, aio.prefix, c, deadline, self._withdraw, first=proclaim_if_retried):
            return False
        aio.revision = c.revision
        return True

    def _withdraw(self, revision: int) -> None:
        """Best-effort removal of our candidacy (it otherwise ends with the session)."""
        with contextlib.suppress(EtcdError):
            self.session.client.txn(if_still_mine(self.aio.key, revision, Delete(self.aio.key)))

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
