"""What a forked child can still do with gRPC, decided once at ``fork()``.

grpc.aio keeps one process-wide completion queue, served by a poller thread
and reference-counted by the open asyncio channels. A child forked while
that poller runs inherits the queue with a positive count but not the
thread: every asyncio call there would wait forever, and the state is never
re-initialised (the count only drops when the inherited channels go away,
and shutting the inherited queue down in the child was measured to break
the parent's streams). So, just before ``fork()``, we note whether the
poller is running; in the child, every asyncio entry point of the client
then raises ``ForkUnsafeError`` at once instead of hanging.

A client closed just before ``fork()`` must not count as live: grpc.aio
stops its poller only when the last channel object is destroyed, which for
a channel caught in a reference cycle waits for the garbage collector, and
the poller thread ends a moment after that. So when none of etcdkit's own
channels is open but the poller still runs, the hook collects garbage and
gives the thread ``SHUTDOWN_GRACE`` seconds to end (only then, e.g. with
another library's grpc.aio channels open, does ``fork()`` pay that wait).

The parent is unaffected, and so are blocking (non-asyncio) gRPC calls in
the child. Inherited clients refuse by themselves (they compare PIDs).
"""

from __future__ import annotations

import gc
import os
import threading

from etcdkit.client.exceptions import ForkUnsafeError

__all__ = ["SHUTDOWN_GRACE", "channel_closed", "channel_opened", "check_aio_usable", "pid"]

SHUTDOWN_GRACE = 0.25  # seconds a stopping grpc.aio poller thread gets to end before fork()

pid = os.getpid()  # this process's PID, kept current by the fork hook (os.getpid() is a system call)
_aio_live_at_fork = False  # set in the parent just before fork()
_aio_inherited = False  # in a child: grpc.aio was inherited live (and so is dead here)
_open_channels = 0  # grpc.aio channels etcdkit opened and has not closed yet
_count_lock = threading.Lock()


def channel_opened() -> None:
    """Count a grpc.aio channel etcdkit just created."""
    global _open_channels
    with _count_lock:
        _open_channels += 1


def channel_closed() -> None:
    """Count a grpc.aio channel etcdkit just closed."""
    global _open_channels
    with _count_lock:
        _open_channels -= 1


def _grpc_aio_poller() -> threading.Thread | None:
    """grpc.aio's completion-queue poller thread while it runs (i.e. aio channels or servers exist)."""
    for t in threading.enumerate():
        target = getattr(t, "_target", None)  # a Thread keeps its target until it returns
        if getattr(target, "__name__", "") == "_poll_wrapper" and t.is_alive():
            return t
    return None


def _before_fork() -> None:
    global _aio_live_at_fork
    poller = _grpc_aio_poller()
    if poller is not None and _open_channels == 0:
        gc.collect()  # destroys closed channels held only by reference cycles: grpc.aio shuts down
        poller.join(SHUTDOWN_GRACE)
    _aio_live_at_fork = poller is not None and poller.is_alive()


def _after_fork_in_parent() -> None:
    global _aio_live_at_fork
    _aio_live_at_fork = False


def _after_fork_in_child() -> None:
    global _aio_inherited, pid
    _aio_inherited = _aio_inherited or _aio_live_at_fork
    pid = os.getpid()


def check_aio_usable() -> None:
    """Raise ``ForkUnsafeError`` if grpc.aio cannot work in this process."""
    if _aio_inherited:
        raise ForkUnsafeError(
            "this process was forked while gRPC asyncio channels were open: watches, keep-alives, "
            "snapshots and AsyncClient cannot work here (gRPC's asyncio poller thread does not survive "
            "fork). Blocking calls of a new Client still work; or close clients before fork()."
        )


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
