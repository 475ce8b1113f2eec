"""The lessor: the pure, synchronous core of leases (no I/O, no clock of its own).

Theory of operation
-------------------
A lease is an id, a granted TTL (seconds, raised to ``min_ttl``), a deadline on
the injected clock and the set of keys attached to it. The apply loop (the only
writer of the key space) calls :meth:`Lessor.grant`, :meth:`Lessor.revoke`,
:meth:`Lessor.attach` and :meth:`Lessor.detach` as it applies log entries, so the
lessor always mirrors the committed state. Two things happen outside the log,
as in etcd:

* renewals (:meth:`Lessor.renew`, called by the KeepAlive servicer) only move a
  deadline forward; they are not durable, and after a restart every deadline is
  refreshed by :meth:`Lessor.promote` (etcd's ``Promote`` on a new leader);
* expiry is *detected* here (:meth:`Lessor.expired`) but *acted on* by the
  expiry driver, which revokes through the log so the attached keys are deleted
  in one revision like any other write.

Deadlines live in a min-heap of ``(deadline, lease_id)`` with lazy deletion: an
entry whose lease is gone or whose deadline moved (renew, promote) is stale and
is skipped when it reaches the top. :meth:`Lessor.expired` hands each expired
lease out once and then holds it back for ``retry_interval`` seconds (etcd's
``expiredLeaseRetryInterval``), so a revoke in flight is not requested twice but
a lost one is retried.

Invariants: every live lease has exactly one heap entry matching its deadline
(plus any number of stale ones); a key is attached to at most one lease by the
caller's discipline (Put detaches from the old lease first), and
``revoke`` returns exactly the keys attached at that moment.

Errors are ``EtcdServerError`` with etcd's wire errors: ``LEASE_EXIST``,
``LEASE_TTL_TOO_LARGE`` and ``LEASE_NOT_FOUND``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from etcdkit.api import errors
from etcdkit.server.errors import EtcdServerError

__all__ = ["MAX_LEASE_TTL", "Lease", "Lessor"]

MAX_LEASE_TTL = 9_000_000_000
"""Largest TTL etcd accepts (seconds, ``lease.MaxLeaseTTL``); larger ⇒ LEASE_TTL_TOO_LARGE."""


@dataclass(eq=False, slots=True)
class Lease:
    """One live lease.

    ``ttl`` is the granted TTL after raising to the minimum; ``deadline`` is on
    the lessor's clock; ``remaining_ttl`` is a checkpointed remaining TTL (0 =
    none) that :meth:`Lessor.promote` uses instead of ``ttl`` when set.
    """

    id: int
    ttl: int
    deadline: float
    keys: set[bytes] = field(default_factory=set)
    remaining_ttl: int = 0
    _clock: Callable[[], float] = field(default=lambda: 0.0, repr=False)

    def remaining(self) -> float:
        """Seconds until the deadline (negative once expired)."""
        return self.deadline - self._clock()


class Lessor:
    """Leases, their attached keys and their deadlines (see the module docstring)."""

    def __init__(self, clock: Callable[[], float], min_ttl: int = 2, *, retry_interval: float = 3.0) -> None:
        """``clock`` returns monotonic seconds; ``min_ttl`` is etcd's minimum TTL
        (ceil(1.5 x election timeout) = 2 s by default); ``retry_interval`` is how
        long an expired lease handed out by :meth:`expired` is held back."""
        self._clock = clock
        self.min_ttl = min_ttl
        self.retry_interval = retry_interval
        self._leases: dict[int, Lease] = {}
        self._heap: list[tuple[float, int]] = []
        # lease id -> time before which expired() must not hand it out again
        self._held_until: dict[int, float] = {}

    @property
    def clock(self) -> Callable[[], float]:
        """The injected clock (drivers that schedule against deadlines use it)."""
        return self._clock

    # --- log-driven mutations (apply loop) ----------------------------------
    def grant(self, lease_id: int, ttl: int, *, remaining_ttl: int = 0) -> Lease:
        """Create lease ``lease_id`` with ``ttl`` seconds, raised to ``min_ttl``.

        ``remaining_ttl`` > 0 (a checkpoint restored from storage) starts the
        deadline from it instead of the TTL. Raises LEASE_TTL_TOO_LARGE when
        ``ttl`` > MAX_LEASE_TTL and LEASE_EXIST when the id is live. The id itself
        is the caller's choice (the server picks one for ID=0 requests).
        """
        if ttl > MAX_LEASE_TTL:
            raise EtcdServerError(errors.LEASE_TTL_TOO_LARGE)
        if lease_id in self._leases:
            raise EtcdServerError(errors.LEASE_EXIST)
        ttl = max(ttl, self.min_ttl)
        first = remaining_ttl if remaining_ttl > 0 else ttl
        lease = Lease(lease_id, ttl, self._clock() + first, remaining_ttl=max(remaining_ttl, 0), _clock=self._clock)
        self._leases[lease_id] = lease
        self._push(lease)
        return lease

    def revoke(self, lease_id: int) -> set[bytes]:
        """Forget ``lease_id`` and return the keys that were attached to it (the
        caller deletes them in one revision). Raises LEASE_NOT_FOUND."""
        lease = self._leases.pop(lease_id, None)
        if lease is None:
            raise EtcdServerError(errors.LEASE_NOT_FOUND)
        self._held_until.pop(lease_id, None)
        # its heap entries are now stale and are dropped lazily
        return lease.keys

    def attach(self, lease_id: int, key: bytes) -> None:
        """Record ``key`` as attached to ``lease_id``. Raises LEASE_NOT_FOUND."""
        self._get(lease_id).keys.add(key)

    def detach(self, lease_id: int, key: bytes) -> None:
        """Forget that ``key`` is attached to ``lease_id``; no-op if it is not
        (or if the lease is gone: revoke already took its keys)."""
        lease = self._leases.get(lease_id)
        if lease is not None:
            lease.keys.discard(key)

    def checkpoint(self, lease_id: int, remaining_ttl: int) -> None:
        """Record a remaining TTL for ``lease_id`` (etcd's LeaseCheckpoint); unknown
        ids are ignored, as etcd does for leases revoked meanwhile."""
        lease = self._leases.get(lease_id)
        if lease is not None:
            lease.remaining_ttl = max(remaining_ttl, 0)

    # --- reads ----------------------------------------------------------------
    def lookup(self, lease_id: int) -> Lease | None:
        """The live lease ``lease_id`` (expired but not yet revoked counts), or None."""
        return self._leases.get(lease_id)

    def leases(self) -> list[Lease]:
        """Every live lease, ordered by id."""
        return [self._leases[i] for i in sorted(self._leases)]

    def __len__(self) -> int:
        return len(self._leases)

    # --- outside the log --------------------------------------------------------
    def renew(self, lease_id: int) -> int:
        """Move the deadline of ``lease_id`` to now + TTL and return the TTL.

        A lease past its deadline is as good as revoked (its revoke is pending),
        so renewing it raises LEASE_NOT_FOUND like an unknown id, and so does an
        unknown id. Renewing clears a checkpointed remaining TTL.
        """
        lease = self._leases.get(lease_id)
        if lease is None or lease.remaining() <= 0:
            raise EtcdServerError(errors.LEASE_NOT_FOUND)
        lease.deadline = self._clock() + lease.ttl
        lease.remaining_ttl = 0
        self._held_until.pop(lease_id, None)
        self._push(lease)
        return lease.ttl

    def expired(self, limit: int | None = None) -> list[int]:
        """Ids of leases past their deadline, earliest deadline first, at most
        ``limit`` of them.

        Each id returned is held back for ``retry_interval`` seconds (so a
        revoke in flight is not asked for twice) and returned again after that
        if the lease is still there (a lost revoke is retried).
        """
        now = self._clock()
        out: list[int] = []
        heap = self._heap
        while heap and (limit is None or len(out) < limit):
            when, lease_id = heap[0]
            lease = self._leases.get(lease_id)
            held = self._held_until.get(lease_id)
            current = lease is not None and (when == held if held is not None else when == lease.deadline)
            if not current:
                heapq.heappop(heap)  # stale: revoked, renewed or promoted since
                continue
            if when > now:
                break
            heapq.heappop(heap)
            out.append(lease_id)
            retry_at = now + self.retry_interval
            self._held_until[lease_id] = retry_at
            heapq.heappush(heap, (retry_at, lease_id))
        self._maybe_compact_heap()
        return out

    def next_deadline(self) -> float | None:
        """The earliest time :meth:`expired` could return something (None if no
        lease); lets a driver sleep exactly as long as needed. May be early."""
        return self._heap[0][0] if self._heap else None

    def promote(self, extend: float = 0.0) -> None:
        """Refresh every deadline to now + (checkpointed remaining TTL or TTL) +
        ``extend`` (etcd's ``Promote`` after a restart or on a new leader)."""
        now = self._clock()
        self._heap = []
        self._held_until.clear()
        for lease in self._leases.values():
            base = lease.remaining_ttl if lease.remaining_ttl > 0 else lease.ttl
            lease.deadline = now + base + extend
            self._heap.append((lease.deadline, lease.id))
        heapq.heapify(self._heap)

    # --- internals --------------------------------------------------------------
    def _get(self, lease_id: int) -> Lease:
        lease = self._leases.get(lease_id)
        if lease is None:
            raise EtcdServerError(errors.LEASE_NOT_FOUND)
        return lease

    def _push(self, lease: Lease) -> None:
        heapq.heappush(self._heap, (lease.deadline, lease.id))
        self._maybe_compact_heap()

    def _maybe_compact_heap(self) -> None:
        # Renewals leave stale entries behind; rebuild when they dominate so the
        # heap stays O(live leases) under heavy keepalive traffic.
        if len(self._heap) > 2 * len(self._leases) + 64:
            entries = []
            for lease in self._leases.values():
                held = self._held_until.get(lease.id)
                entries.append((held if held is not None else lease.deadline, lease.id))
            heapq.heapify(entries)
            self._heap = entries
