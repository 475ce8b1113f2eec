"""etcdctl's exit codes and the exception commands raise to end with one.

``CtlError(code, message)`` makes ``main`` print ``Error: <message>`` on stderr
and exit with ``code`` (etcdctl's ``ExitWithError``). Nothing here imports gRPC.
"""

from __future__ import annotations

__all__ = [
    "EXIT_BAD_ARGS",
    "EXIT_BAD_CONNECTION",
    "EXIT_BAD_FEATURE",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID_INPUT",
    "EXIT_IO",
    "CtlError",
]

EXIT_ERROR = 1
EXIT_BAD_CONNECTION = 2
EXIT_INVALID_INPUT = 3
EXIT_BAD_FEATURE = 4
EXIT_INTERRUPTED = 5
EXIT_IO = 6
EXIT_BAD_ARGS = 128


class CtlError(Exception):
    """End the command: print ``Error: message`` (unless ``message`` is None) and exit with ``code``."""

    def __init__(self, code: int, message: str | None) -> None:
        super().__init__(message or "")
        self.code = code
        self.message = message
