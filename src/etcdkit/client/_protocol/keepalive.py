"""Lease keep-alive schedule (sans-IO).

A keep-alive is sent every ``ttl / 3`` seconds (clientv3 does the same), so
two may be lost before the lease is in danger. Each answer carries the TTL
granted from now: the lease is safe until ``now + ttl``. An answer with
``ttl <= 0`` means the lease no longer exists. If no answer arrives before
the lease's known expiry, it must be assumed lost: the keys attached to it
may already be gone.
"""

from __future__ import annotations

__all__ = ["KeepAliveSchedule"]


class KeepAliveSchedule:
    """When to send the next keep-alive, and whether the lease is lost."""

    def __init__(self, ttl: int, now: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = ttl
        self.expires_at = now + ttl
        self.next_send = now  # the first keep-alive goes out at once
        self.lost_reason: str | None = None

    def sent(self, now: float) -> None:
        """A keep-alive request went out; schedule the next one."""
        self.next_send = now + max(self.ttl / 3.0, 0.5)

    def answered(self, ttl: int, now: float) -> None:
        """A keep-alive answer arrived with the remaining ``ttl``."""
        if ttl <= 0:
            self.lost_reason = "lease not found (expired or revoked)"
            return
        self.ttl = ttl
        self.expires_at = now + ttl

    def due(self, now: float) -> bool:
        return self.lost_reason is None and now >= self.next_send

    def check_expired(self, now: float) -> bool:
        """True (and record why) once the lease's known lifetime has passed without an answer."""
        if self.lost_reason is None and now >= self.expires_at:
            self.lost_reason = "no keep-alive answer before the lease expired"
        return self.lost_reason is not None

    def wait_time(self, now: float) -> float:
        """Seconds until something needs doing (next send or expiry)."""
        return max(0.0, min(self.next_send, self.expires_at) - now)
