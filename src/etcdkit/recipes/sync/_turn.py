"""``TurnIO`` for the blocking recipes: the wait for one's turn runs in the calling thread.

The algorithm is ``_queue.wait_turn_with`` (the asyncio recipes' own); here
its I/O never suspends, so ``drive()`` runs it to the end in the caller's
thread: reads are the blocking client's unary calls, and the deletion
watches are ``client._sync_stream.DeletionWatch`` streams read in this
thread. Nothing goes through the client's event-loop thread, which is what
a contended blocking ``Lock`` used to spend most of its CPU on.

How the feed meets ``DeletionFeed``'s contract:

* deadline: each stream lives at most until the caller's deadline (and at
  most ``STREAM_LIFE`` seconds, so a member that froze cannot hold the wait
  past that); at the deadline -> ``TurnTimeout``; at the end of a life
  before the deadline the watch continues from the next revision, no gap;
* session lost or closed: the session cancels the open stream
  (``Session._on_end``) -> ``SessionLostError`` / ``SessionClosedError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import NoReturn, Protocol

from etcdkit.client import Client, KeyValue, WatchError
from etcdkit.client._sync_stream import DeletionWatch, StreamExpired, WatchCancelled
from etcdkit.recipes._queue import TurnTimeout, blockers_in, blockers_txn

__all__ = ["STREAM_LIFE", "BlockingTurnIO"]

# Longest life of one deletion-watch stream (seconds): bounds a wait on a member that stopped
# answering without closing the connection; the next stream may go to another member.
STREAM_LIFE = 5.0


class _Session(Protocol):
    """What the blocking wait needs of ``recipes.sync.Session`` (kept structural to avoid a cycle)."""

    client: Client

    def check(self) -> None: ...

    def _on_end(self, cancel: Callable[[], None]) -> Callable[[], None]: ...

    def wait_lost(self, timeout: float | None = None) -> bool: ...


class BlockingTurnIO:
    """``TurnIO`` over the blocking ``Client`` of ``session`` (methods never suspend)."""

    def __init__(self, session: _Session, prefix: bytes, key: bytes, revision: int, deadline: float | None) -> None:
        self.session = session
        self.client = session.client
        self.prefix = prefix
        self.key = key
        self.revision = revision
        self.deadline = deadline  # the wait's own (``time.monotonic()``): bounds every stream's life

    def check(self) -> None:
        self.session.check()

    async def blockers(self) -> list[KeyValue]:
        self.session.check()
        return blockers_in(self.client.txn(blockers_txn(self.prefix, self.key, self.revision)), self)

    def deletions(self, key: bytes, *, prefix: bool) -> _Feed:
        return _Feed(self.session, key, prefix, self.deadline)

    async def pause(self, delay: float) -> None:
        self.session.wait_lost(delay)  # ends early when the session is lost


class _Feed:
    """A ``DeletionFeed`` and its own (never-suspending) async context manager."""

    def __init__(self, session: _Session, key: bytes, prefix: bool, deadline: float | None) -> None:
        self.session = session
        self.key = key
        self.prefix = prefix
        self.deadline = deadline
        self.watch: DeletionWatch | None = None
        self.unregister: Callable[[], None] | None = None

    def _life(self) -> float:
        """The next stream's life: up to the deadline, at most ``STREAM_LIFE``; <= 0 once it passed."""
        if self.deadline is None:
            return STREAM_LIFE
        return min(STREAM_LIFE, self.deadline - time.monotonic())

    async def __aenter__(self) -> _Feed:
        # A deadline already passed gives a stream that expires at once: DeadlineExceededError,
        # which the algorithm turns into TurnTimeout.
        self.watch = self.session.client._deletion_watch(self.key, prefix=self.prefix, life=max(0.001, self._life()))
        self.unregister = self.session._on_end(self.watch.cancel)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.unregister is not None:
            self.unregister()
        if self.watch is not None:
            self.watch.close()

    async def until(self, gone: Callable[[list[bytes]], bool], deadline: float | None) -> None:
        watch = self.watch
        assert watch is not None
        while True:
            try:
                keys = watch.next()
            except StreamExpired:
                life = self._life()
                if life <= 0:
                    raise TurnTimeout() from None
                try:
                    watch.reopen(life)
                except WatchCancelled:
                    self._ended()
                continue
            except WatchCancelled:
                self._ended()
            if gone(keys):
                return

    def _ended(self) -> NoReturn:
        """The session cancelled the stream: it was lost or closed."""
        self.session.check()  # raises SessionLostError / SessionClosedError
        raise WatchError("deletion watch cancelled")  # pragma: no cover - only the session cancels it
