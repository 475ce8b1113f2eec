"""Errors raised by the recipes; every one derives from ``etcdkit.client.EtcdError``.

::

    EtcdError
    └── RecipeError
        ├── SessionError
        │   ├── SessionLostError      the session's lease expired or was revoked (keys gone)
        │   └── SessionClosedError    the session was closed by its owner
        ├── LockError
        │   ├── EmptyLockNameError    a lock or election needs a non-empty name (also ValueError)
        │   ├── LockNotAcquiredError  ``with lock:`` could not acquire within its timeout
        │   └── LockNotHeldError      an operation needs the lock held
        ├── STMConflictError          an STM gave up after ``max_retries`` conflicts
        └── CacheClosedError          the cache was closed

Election errors reuse the client's ``ElectionNotLeaderError`` and
``ElectionNoLeaderError`` so that callers see the same classes whether they
use these recipes or etcd's Election service.
"""

from __future__ import annotations

from etcdkit.client.exceptions import EtcdError

__all__ = [
    "CacheClosedError",
    "EmptyLockNameError",
    "LockError",
    "LockNotAcquiredError",
    "LockNotHeldError",
    "RecipeError",
    "STMConflictError",
    "SessionClosedError",
    "SessionError",
    "SessionLostError",
]


class RecipeError(EtcdError):
    """Root of the recipes' own errors."""


class SessionError(RecipeError):
    """The session cannot be used any more."""


class SessionLostError(SessionError):
    """The session's lease is gone (expired, revoked, or its deadline passed unrenewed).

    Every key written with the lease may already be deleted: locks held through
    this session are no longer held. Create a new session.
    """

    def __init__(self, lease_id: int, reason: str) -> None:
        super().__init__(f"session {lease_id:x} lost: {reason}")
        self.lease_id = lease_id
        self.reason = reason


class SessionClosedError(SessionError):
    """The session was closed by its owner."""


class LockError(RecipeError):
    """Lock and election misuse."""


class EmptyLockNameError(LockError, ValueError):
    """Locks and elections need a non-empty name (the key prefix)."""

    def __init__(self) -> None:
        super().__init__("lock/election name must not be empty")


class LockNotAcquiredError(LockError, TimeoutError):
    """``with lock:`` could not acquire the lock within its timeout."""


class LockNotHeldError(LockError):
    """The operation needs the lock held by this holder."""


class STMConflictError(RecipeError):
    """The STM transaction conflicted on every one of its attempts."""

    def __init__(self, attempts: int) -> None:
        super().__init__(f"STM transaction conflicted {attempts} times; giving up")
        self.attempts = attempts


class CacheClosedError(RecipeError):
    """The cache was closed."""
