"""A benchmark's helper server in its own (spawned) process, stopped by PID (stdlib only)."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["spawned_server"]


@contextlib.contextmanager
def spawned_server(target: Callable[..., None], *args: Any) -> Iterator[tuple[int, int]]:
    """Run ``target(port_q, *args)`` in a spawned process; yield (the port it puts on ``port_q``, its PID).

    ``target`` must be importable by name (module level). The process is killed and reaped on exit.
    Objects in ``args`` that need a multiprocessing context (events, queues) must come from
    ``mp.get_context("spawn")``.
    """
    ctx = mp.get_context("spawn")
    port_q = ctx.Queue()
    proc = ctx.Process(target=target, args=(port_q, *args), daemon=True)
    proc.start()
    try:
        port = port_q.get(timeout=30)
        assert proc.pid is not None
        yield port, proc.pid
    finally:
        proc.kill()
        proc.join(10)
