"""``IOThread``: one thread that runs blocking storage jobs in order, for an asyncio loop.

Contract: ``submit(fn, *args)`` (loop thread only) queues ``fn(*args)`` and
returns an asyncio future of the loop that resolves with its result or
exception; ``call(on_done, fn, *args)`` queues the same job and, instead of a
future, calls ``on_done(result, exc)`` on the loop (``exc`` None on success).
Jobs run one at a time, in submission order, on the one thread (so a WAL
append and a checkpoint never overlap). ``shutdown()`` lets queued jobs
finish, then joins the thread; later ``submit`` calls raise ``RuntimeError``.

Why not ``loop.run_in_executor`` with a one-worker ``ThreadPoolExecutor``: the
same ordering, but each call builds a ``concurrent.futures.Future``, a work
item and a chained asyncio future with two done-callbacks; here a job is one
queue put and one ``call_soon_threadsafe``, about half the CPU per round trip
(measured: ~45 vs ~90 us on the benchmark machine). The server makes one round
trip per group commit, so at one client this is per write.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["IOThread"]

_T = TypeVar("_T")
_Done = Callable[[Any, "BaseException | None"], None]
_Job = tuple[asyncio.AbstractEventLoop, _Done, Callable[..., Any], tuple[Any, ...]]


def _resolve(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():  # cancelled by its awaiter meanwhile
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


class IOThread:
    """A single worker thread for blocking jobs (see the module contract)."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        # A daemon thread: a server that is never stopped must not keep the process alive;
        # stop() shuts it down (and waits) in the normal case.
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        """Queue ``fn(*args)``; the returned future (of the running loop) gets its outcome."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[_T] = loop.create_future()
        self._put((loop, functools.partial(_resolve, fut), fn, args))
        return fut

    def call(self, on_done: _Done, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)``; ``on_done(result, exc)`` runs on the running loop afterwards."""
        self._put((asyncio.get_running_loop(), on_done, fn, args))

    def _put(self, job: _Job) -> None:
        if self._closed:
            raise RuntimeError("IOThread is shut down")
        self._jobs.put(job)

    def shutdown(self) -> None:
        """Run what is queued, then stop the thread and wait for it (idempotent)."""
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            loop, on_done, fn, args = job
            result: Any = None
            exc: BaseException | None = None
            try:
                result = fn(*args)
            except BaseException as e:  # delivered to the awaiter, whatever it is
                exc = e
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for this job any more
                loop.call_soon_threadsafe(on_done, result, exc)
            del job, on_done, result, exc
