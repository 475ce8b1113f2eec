"""Streaming calls a command cancels itself before it returns.

gRPC Python reads and cancels a call under a lock of the call. A daemon thread that interpreter
shutdown freezes while it holds that lock makes the main thread's final garbage collection of the
call wait for it forever: the command has printed everything and never exits (seen with
``watch -i`` on a loaded machine). So a command cancels every stream from the thread that is
ending it, and joins the threads that read them, before it returns: no thread is inside gRPC when
the interpreter shuts down.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["JOIN_TIMEOUT", "CallSet"]

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
