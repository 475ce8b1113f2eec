"""Session state (sans-IO): a lease's locally tracked deadline.

Theory of operation. The server expires a lease ``ttl`` seconds after the
last keep-alive it received. The client cannot see the server's clock, but
it knows a lower bound of when each renewal was granted (``at``: a time no
later than the server's receipt of the request). So ``at + ttl`` is a
deadline the server cannot expire the lease *before*. Tracking it locally
lets a holder learn it is in danger before the keys vanish:

==========  ===============================================================
CONNECTED   renewed within ``suspend_after`` seconds
SUSPENDED   a renewal is overdue; the lease may still be alive on the server
            but the holder must not start work it cannot abort in time
LOST        the deadline passed unrenewed, the server said the lease is
            gone, or it was revoked; terminal
==========  ===============================================================

Transitions:

=====================  ==========  ==========  ====
event                  CONNECTED   SUSPENDED   LOST
=====================  ==========  ==========  ====
renewed(at, ttl)       -           CONNECTED   -
tick past suspend      SUSPENDED   -           -
tick past deadline     LOST        LOST        -
lost(reason)           LOST        LOST        -
=====================  ==========  ==========  ====
"""

from __future__ import annotations

import enum

__all__ = ["SessionCore", "SessionState"]


class SessionState(enum.Enum):
    CONNECTED = "CONNECTED"
    SUSPENDED = "SUSPENDED"
    LOST = "LOST"


class SessionCore:
    """Deadline bookkeeping of one lease. Methods return the new state when it changed, else None."""

    def __init__(self, lease_id: int, ttl: int, granted_at: float, suspend_after: float | None = None) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.lease_id = lease_id
        self.ttl = ttl
        # Keep-alives go out every ttl/3: after ttl/2 without one, at least one was missed.
        self.suspend_after = suspend_after if suspend_after is not None else ttl / 2.0
        if not 0 < self.suspend_after < ttl:
            raise ValueError("need 0 < suspend_after < ttl")
        self.state = SessionState.CONNECTED
        self.last_renewal = granted_at
        self.deadline = granted_at + ttl
        self.lost_reason: str | None = None

    def renewed(self, at: float, ttl: int | None = None) -> SessionState | None:
        """A renewal answered; the server granted it no earlier than ``at``."""
        if self.state is SessionState.LOST:
            return None
        if ttl is not None and ttl <= 0:
            return self.lost("lease not found (expired or revoked)")
        self.ttl = ttl if ttl is not None else self.ttl
        self.last_renewal = max(self.last_renewal, at)
        self.deadline = max(self.deadline, at + self.ttl)
        return self._set(SessionState.CONNECTED)

    def lost(self, reason: str) -> SessionState | None:
        """The lease is gone (the keeper said so, or it was revoked)."""
        if self.state is SessionState.LOST:
            return None
        self.lost_reason = reason
        return self._set(SessionState.LOST)

    def tick(self, now: float) -> SessionState | None:
        """Advance the clock to ``now``."""
        if self.state is SessionState.LOST:
            return None
        if now >= self.deadline:
            return self.lost("deadline passed without a renewal (the server may have expired the lease)")
        if now >= self.last_renewal + self.suspend_after:
            return self._set(SessionState.SUSPENDED)
        return None

    def remaining(self, now: float) -> float:
        """Seconds the lease is known to live (0 once lost)."""
        return 0.0 if self.state is SessionState.LOST else max(0.0, self.deadline - now)

    def next_tick_in(self, now: float) -> float:
        """Seconds until the next transition a tick could cause."""
        if self.state is SessionState.LOST:
            return float("inf")
        if self.state is SessionState.CONNECTED:
            return max(0.0, min(self.last_renewal + self.suspend_after, self.deadline) - now)
        return max(0.0, self.deadline - now)

    def _set(self, state: SessionState) -> SessionState | None:
        if state is self.state:
            return None
        self.state = state
        return state
