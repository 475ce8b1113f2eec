"""Streaming calls a command cancels itself before it returns.

A command that reads streams in threads (``watch -i``, the keep-alive of ``lock`` and ``elect``)
cancels every stream from the thread that is ending it, then joins its reader threads (bounded), so
that its output is complete and none of its own threads is still inside gRPC when it returns. gRPC's
internal threads may still be: a daemon thread frozen by interpreter shutdown while it holds a
call's lock makes the final garbage collection of that call wait forever, which is why the
``etcdkit`` entry point ends a CLI process with ``os._exit`` (``etcdkit.__main__.run``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["JOIN_TIMEOUT", "CallSet", "responses"]

JOIN_TIMEOUT = 5.0
"""Seconds to wait for a reader thread once its call is cancelled (it ends at once unless its dial hangs)."""


class CallSet:
    """Calls to cancel together. ``add`` after ``cancel_all`` cancels the new call at once, so a reader
    thread that opens its stream late cannot outlive the command."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[Any] = []
        self._closed = False

    def add(self, call: Any) -> None:
        with self._lock:
            if not self._closed:
                self._calls.append(call)
                return
        call.cancel()

    def cancel_all(self) -> None:
        """Cancel every call added so far and every call added later."""
        with self._lock:
            self._closed = True
            calls, self._calls = self._calls, []
        for call in calls:
            call.cancel()


def responses(call: Any, calls: CallSet | None = None) -> Iterator[Any]:
    """The responses of a streaming ``call``, registered in ``calls`` if given (for a reader in another
    thread); the call is cancelled when the generator ends or is closed."""
    if calls is not None:
        calls.add(call)
    try:
        yield from call
    finally:
        call.cancel()
