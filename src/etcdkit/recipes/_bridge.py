"""How the blocking recipes drive the async ones: on the blocking ``Client``'s own loop thread.

The async recipes hold asyncio objects (tasks, events, the ``AsyncClient``)
bound to the loop that the blocking ``Client`` runs on a private thread, so
every blocking call submits the async call to that loop and waits, exactly
as ``etcdkit.client.sync`` does. One implementation, two faces.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

from etcdkit.client import Client

__all__ = ["Bridge"]

R = TypeVar("R")


class Bridge:
    """Runs coroutines on a blocking ``Client``'s loop thread."""

    def __init__(self, client: Client) -> None:
        self.client = client
        # The client exposes no public "run this coroutine on your loop"; its private
        # runner is the one correct place (same loop as client.aio's channels and tasks).
        self._loop = client._loop

    def run(self, coro: Coroutine[Any, Any, R], timeout: float | None = None) -> R:
        """Run ``coro`` on the client's loop and return its result (``TimeoutError`` after ``timeout``)."""
        return self._loop.run(coro, timeout)
