"""Watch heartbeat monitor (sans-IO): is the watch still delivering?

Theory of operation (the talk's recipe). A writer bumps a health key every
``interval`` seconds; a watcher of the same key expects an event at least
every ``bound`` seconds. A silent watch is indistinguishable from a quiet
key — unless the key is known to change. So when no heartbeat event has
arrived for ``bound`` seconds, the watch path (client, network, server or
the writer) is broken and an alarm goes up; the next event clears it.

=======  =====================  ===========================
state    beat(now)              tick(now) past the bound
=======  =====================  ===========================
OK       stays OK               ALARM
ALARM    OK                     stays ALARM
=======  =====================  ===========================

The monitor starts OK with the clock at creation, giving the first beat one
``bound`` of grace.
"""

from __future__ import annotations

import enum

__all__ = ["HeartbeatCore", "HeartbeatState"]


class HeartbeatState(enum.Enum):
    OK = "OK"
    ALARM = "ALARM"


class HeartbeatCore:
    """Tracks the last heartbeat event. Methods return the new state when it changed, else None."""

    def __init__(self, bound: float, now: float) -> None:
        if bound <= 0:
            raise ValueError("bound must be positive")
        self.bound = bound
        self.state = HeartbeatState.OK
        self.last_beat = now
        self.beats = 0
        self.alarms = 0

    def beat(self, now: float) -> HeartbeatState | None:
        """A heartbeat event arrived."""
        self.beats += 1
        self.last_beat = max(self.last_beat, now)
        return self._set(HeartbeatState.OK)

    def tick(self, now: float) -> HeartbeatState | None:
        if now - self.last_beat >= self.bound:
            return self._set(HeartbeatState.ALARM)
        return None

    def age(self, now: float) -> float:
        """Seconds since the last heartbeat event (or since start)."""
        return max(0.0, now - self.last_beat)

    def next_tick_in(self, now: float) -> float:
        """Seconds until the alarm would go up (0 if it is already up)."""
        return max(0.0, self.last_beat + self.bound - now)

    def _set(self, state: HeartbeatState) -> HeartbeatState | None:
        if state is self.state:
            return None
        self.state = state
        if state is HeartbeatState.ALARM:
            self.alarms += 1
        return state
