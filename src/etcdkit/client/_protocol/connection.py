"""Connection state as users see it (kazoo's model).

=========  =====================================================
CONNECTED  the last call or stream on some endpoint succeeded
SUSPENDED  calls are failing; the client is retrying. Watches and
           leases may still be fine on the server: do not assume
           loss, but do not assume ownership either
LOST       no endpoint worked for ``lost_timeout`` seconds. Leases
           kept alive may have expired; recipes must re-acquire
=========  =====================================================

Transitions (``now`` is injected):

=================  ==========  ==========  ==========
event              CONNECTED   SUSPENDED   LOST
=================  ==========  ==========  ==========
success            -           CONNECTED   CONNECTED
failure            SUSPENDED   -           -
tick past timeout  -           LOST        -
=================  ==========  ==========  ==========
"""

from __future__ import annotations

import enum

__all__ = ["ConnectionState", "ConnectionTracker"]


class ConnectionState(enum.Enum):
    CONNECTED = "CONNECTED"
    SUSPENDED = "SUSPENDED"
    LOST = "LOST"


class ConnectionTracker:
    """Pure state machine; each method returns the new state if it changed, else None."""

    def __init__(self, lost_timeout: float) -> None:
        self.lost_timeout = lost_timeout
        # Until the first success the client is not connected; treat it as
        # suspended since creation so a never-working config ends in LOST.
        self.state = ConnectionState.SUSPENDED
        self._failing_since: float | None = None

    def success(self, now: float) -> ConnectionState | None:
        self._failing_since = None
        return self._set(ConnectionState.CONNECTED)

    def failure(self, now: float) -> ConnectionState | None:
        if self._failing_since is None:
            self._failing_since = now
        if self.state is ConnectionState.CONNECTED:
            return self._set(ConnectionState.SUSPENDED)
        return self.tick(now)

    def tick(self, now: float) -> ConnectionState | None:
        if (
            self.state is ConnectionState.SUSPENDED
            and self._failing_since is not None
            and now - self._failing_since >= self.lost_timeout
        ):
            return self._set(ConnectionState.LOST)
        return None

    def _set(self, state: ConnectionState) -> ConnectionState | None:
        if state is self.state:
            return None
        self.state = state
        return state
