"""The load driver: ``clients`` concurrent closed-loop tasks issuing one op each at a time.

Contract:

* an op is ``await op(client_id)``; it succeeds (acknowledged, its latency is
  recorded) or raises (an error, counted by kind: the gRPC status code name,
  or the exception type); ``issued`` is incremented just before the op is
  awaited, so after ``drive`` returns ``issued == acknowledged + errors``;
* the run ends when ``total`` ops were issued or ``duration`` seconds passed,
  whichever comes first; ops in flight at the deadline are awaited (each is
  bounded by the per-request timeout the op applies);
* ``rate`` > 0 spaces issue times ``1/rate`` apart across all clients (an
  open-loop schedule shared by the clients; latency is measured from the
  actual send, so a saturated server shows up as a lower rate, not as
  queueing delay);
* channels: ``ChannelPool`` opens ``conns`` independent HTTP/2 connections
  (a local subchannel pool per channel, so gRPC does not fold them into one).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, cast

import grpc
import grpc.aio

from etcdkit.bench.result import BenchResult

__all__ = ["ChannelPool", "Op", "drive", "read_message"]

T = TypeVar("T")

Op = Callable[[int], Awaitable[object]]

# Generous message limits: the benchmark must not fail where the server would succeed.
_CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]


class ChannelPool:
    """``conns`` grpc.aio channels over ``endpoints`` (round-robin); an async context manager."""

    def __init__(self, endpoints: Sequence[str], conns: int) -> None:
        self.channels = [
            grpc.aio.insecure_channel(endpoints[i % len(endpoints)], options=_CHANNEL_OPTIONS) for i in range(conns)
        ]

    def for_client(self, client_id: int) -> grpc.aio.Channel:
        """The channel client ``client_id`` uses (clients are spread evenly)."""
        return self.channels[client_id % len(self.channels)]

    async def ready(self, timeout: float) -> None:
        """Wait until every channel is connected (``TimeoutError`` after ``timeout`` s)."""
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(ch.channel_ready() for ch in self.channels))

    async def close(self) -> None:
        await asyncio.gather(*(ch.close(None) for ch in self.channels))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, grpc.aio.AioRpcError):
        return exc.code().name
    return type(exc).__name__


async def drive(
    op: Op,
    result: BenchResult,
    *,
    clients: int,
    total: int | None,
    duration: float | None,
    rate: float = 0.0,
    record: bool = True,
) -> None:
    """Run ``op`` from ``clients`` tasks until ``total`` ops or ``duration`` s; fill ``result``.

    ``result.elapsed_s`` becomes the wall time from the first issue to the
    last completion. ``record=False`` runs without recording latencies (warm-up).
    """
    if total is None and duration is None:
        raise ValueError("unbounded run: give total or duration")
    perf = time.perf_counter_ns
    start = time.monotonic()
    deadline = start + duration if duration is not None else None
    interval = 1.0 / rate if rate > 0 else 0.0
    next_slot = start
    lat = result.latencies

    async def client(cid: int) -> None:
        nonlocal next_slot
        while True:
            if total is not None and result.issued >= total:
                return
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            if interval:
                slot = max(next_slot, now)
                if deadline is not None and slot >= deadline:
                    return
                next_slot = slot + interval
                if slot > now:
                    await asyncio.sleep(slot - now)
            result.issued += 1
            t0 = perf()
            try:
                await op(cid)
            except asyncio.CancelledError:
                result.errors += 1
                result.error_kinds["CANCELLED_LOCALLY"] += 1
                raise
            except Exception as exc:  # every failure of one op is a counted error, never a crash
                result.errors += 1
                result.error_kinds[_error_kind(exc)] += 1
            else:
                if record:
                    lat.record(perf() - t0)
                result.acknowledged += 1

    await asyncio.gather(*(client(i) for i in range(clients)))
    result.elapsed_s = time.monotonic() - start


_EOF: object = getattr(grpc.aio, "EOF")  # noqa: B009 - missing from grpc-stubs


async def read_message(call: grpc.aio.StreamStreamCall[Any, T]) -> T | None:
    """The next message of a bidirectional stream, or ``None`` at end of stream."""
    msg = await call.read()
    if msg is _EOF:
        return None
    return cast(T, msg)
