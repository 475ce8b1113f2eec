"""Endpoint choice and the revision floor.

Theory of operation: the client sticks to one endpoint while it works.
A failure on the current endpoint moves to the next one (round robin);
a retry pass visits every endpoint once, current first, and collects each
endpoint's error so that a total failure can name them all.

The revision floor is the highest store revision seen in any response
header. A member that lags behind (a follower that has not applied the
latest entries, reached after a failover) may answer a serializable read
with an older revision; such an answer is refused so that time never goes
backwards for the user.
"""

from __future__ import annotations

__all__ = ["EndpointPicker", "RevisionFloor"]


class EndpointPicker:
    """Sticky round-robin choice among endpoints."""

    def __init__(self, endpoints: tuple[str, ...]) -> None:
        if not endpoints:
            raise ValueError("no endpoints")
        self._endpoints = endpoints
        self._index = 0
        n = len(endpoints)
        # order() per current index, computed once (it runs on every call).
        self._orders = tuple(tuple(endpoints[(k + i) % n] for i in range(n)) for k in range(n))
        self.last_errors: dict[str, BaseException] = {}

    @property
    def endpoints(self) -> tuple[str, ...]:
        return self._endpoints

    @property
    def current(self) -> str:
        return self._endpoints[self._index]

    def order(self) -> tuple[str, ...]:
        """Endpoints for one retry pass: the current one first, then the rest in ring order."""
        return self._orders[self._index]

    def failed(self, endpoint: str, error: BaseException) -> None:
        """Record a failure; if it was on the current endpoint, move to the next one."""
        self.last_errors[endpoint] = error
        if endpoint == self.current:
            self._index = (self._index + 1) % len(self._endpoints)

    def succeeded(self, endpoint: str) -> None:
        """Stick to ``endpoint`` from now on."""
        if self.last_errors:
            self.last_errors.pop(endpoint, None)
        if endpoint != self._endpoints[self._index] and endpoint in self._endpoints:
            self._index = self._endpoints.index(endpoint)

    def rotate(self) -> str:
        """Move to the next endpoint (a stalled stream) and return it."""
        self._index = (self._index + 1) % len(self._endpoints)
        return self.current


class RevisionFloor:
    """The highest revision observed; answers below it are stale."""

    def __init__(self) -> None:
        self.revision = 0

    def observe(self, revision: int) -> None:
        if revision > self.revision:
            self.revision = revision

    def is_stale(self, revision: int) -> bool:
        """True when an answer at ``revision`` would move time backwards.

        A revision of 0 means the server did not say (some responses carry no
        header revision); it is never stale.
        """
        return 0 < revision < self.revision
