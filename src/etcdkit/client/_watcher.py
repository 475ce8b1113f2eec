"""The watch driver: one gRPC Watch stream carrying every watch of a client.

The decisions live in ``_protocol.watch_core.WatchCore``; this module only
carries them out: it opens the stream (with ``hasleader: true`` metadata so
a member that lost its leader cancels instead of going silent), writes what
the core asks for (through one writer task, since a gRPC stream takes one
writer), feeds every response and failure back, ticks the core for
progress requests and stall detection, and sleeps the backoff it chooses.

``Watch`` is the user's handle: an async iterator of ``WatchBatch`` that
ends with the watch's error (``WatchCompactedError``...) or when closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

import grpc
import grpc.aio

from etcdkit.api.pb import rpc_pb2
from etcdkit.client._convert import Namespace, header
from etcdkit.client._protocol.watch_core import (
    Action,
    Deliver,
    Fail,
    NeedResync,
    Reconnect,
    SendCancel,
    SendCreate,
    SendProgress,
    WatchCore,
    WatchResponseIn,
    WatchSpec,
    WatchStats,
)
from etcdkit.client._transport import Metadata, Stubs, Transport, map_rpc_error
from etcdkit.client.exceptions import ClientClosedError, EtcdError
from etcdkit.client.server_errors import InvalidAuthTokenError
from etcdkit.client.types import Event, WatchBatch

__all__ = ["Watch", "WatchHub"]

log = logging.getLogger("etcdkit.client.watch")
_End = type(None)


async def _drain(tasks: tuple[asyncio.Task[None], ...]) -> None:
    """Wait (bounded) for cancelled stream tasks to finish, swallowing their errors."""
    _, pending = await asyncio.wait(tasks, timeout=5.0)
    for t in pending:  # pragma: no cover - grpc did not unwind; do not hang close()
        log.warning("watch stream task %s did not stop after cancel", t.get_name())
    for t in tasks:
        if t.done() and not t.cancelled():
            t.exception()  # retrieved: no "exception never retrieved" warning


class Watch:
    """One watch: ``async for batch in watch`` yields ``WatchBatch`` objects in revision order."""

    def __init__(self, hub: WatchHub, wid: int) -> None:
        self._hub = hub
        self.wid = wid
        self._queue: asyncio.Queue[WatchBatch | BaseException | None] = asyncio.Queue()
        self._created = asyncio.Event()
        self._done = False
        self._final_stats = WatchStats()
        self.error: BaseException | None = None

    @property
    def stats(self) -> WatchStats:
        """Counters: reconnects, resyncs, events, lag, next_revision."""
        if self._hub.core.has(self.wid):
            return self._hub.core.stats(self.wid)
        return self._final_stats

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> WatchBatch:
        if self._done and self._queue.empty():
            if self.error is not None:
                raise self.error
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            self._done = True
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._done = True
            self.error = item
            raise item
        return item

    async def events(self) -> list[Event]:
        """The events of the next batch (convenience for simple consumers)."""
        return list((await self.__anext__()).events)

    async def close(self) -> None:
        """Cancel the watch; iteration ends after batches already received."""
        if not self._done:
            if self._hub.core.has(self.wid):
                self._final_stats = self._hub.core.stats(self.wid)
            self._hub.cancel(self.wid)
            self._queue.put_nowait(None)

    # called by the hub
    def _deliver(self, batch: WatchBatch) -> None:
        self._queue.put_nowait(batch)

    def _fail(self, error: BaseException) -> None:
        if self._hub.core.has(self.wid):
            self._final_stats = self._hub.core.stats(self.wid)
        self._queue.put_nowait(error)
        self._created.set()


class WatchHub:
    """Owns the WatchCore and the task that drives the stream."""

    def __init__(self, transport: Transport, ns: Namespace) -> None:
        self._tr = transport
        self._ns = ns
        cfg = transport.config.watch
        self._cfg = cfg
        self.core = WatchCore(
            progress_interval=cfg.progress_interval,
            stall_timeout=cfg.stall_timeout,
            backoff_initial=cfg.backoff_initial,
            backoff_max=cfg.backoff_max,
            rng=random.random,
        )
        self._watches: dict[int, Watch] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._outbox: asyncio.Queue[rpc_pb2.WatchRequest] = asyncio.Queue()
        self._reconnect: Reconnect | None = None
        self._refresh_token = False
        self._side_tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def add(self, spec: WatchSpec, known: dict[bytes, int] | None) -> Watch:
        self._tr.check_open()
        wid, actions = self.core.add(spec, known)
        w = Watch(self, wid)
        self._watches[wid] = w
        self._apply(actions)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="etcdkit-watch-stream")
        return w

    async def wait_created(self, w: Watch, timeout: float | None) -> None:
        await asyncio.wait_for(w._created.wait(), timeout)

    def cancel(self, wid: int) -> None:
        self._watches.pop(wid, None)
        self._apply(self.core.cancel(wid))
        self._wake.set()

    async def close(self) -> None:
        # A flag as well as cancel(): Python 3.11's wait_for can swallow a
        # cancellation that races with its inner future completing.
        self._closing = True
        self._wake.set()
        for w in list(self._watches.values()):
            w._fail(ClientClosedError("client closed"))
        self._watches.clear()
        tasks = [t for t in (self._task, *self._side_tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    # --- carrying out decisions --------------------------------------------------

    def _apply(self, actions: list[Action]) -> None:
        for a in actions:
            if isinstance(a, SendCreate):
                self._outbox.put_nowait(rpc_pb2.WatchRequest(create_request=self._create_req(a)))
            elif isinstance(a, SendCancel):
                req = rpc_pb2.WatchCancelRequest(watch_id=a.server_id)
                self._outbox.put_nowait(rpc_pb2.WatchRequest(cancel_request=req))
            elif isinstance(a, SendProgress):
                self._outbox.put_nowait(rpc_pb2.WatchRequest(progress_request=rpc_pb2.WatchProgressRequest()))
            elif isinstance(a, Deliver):
                w = self._watches.get(a.wid)
                if w is not None:
                    w._deliver(a.batch)
            elif isinstance(a, Fail):
                w = self._watches.pop(a.wid, None)
                if w is not None:
                    w._fail(a.error)
                self.core.cancel(a.wid)  # forget it (nothing to cancel on the server)
            elif isinstance(a, NeedResync):
                t = asyncio.get_running_loop().create_task(self._resync(a))
                self._side_tasks.add(t)
                t.add_done_callback(self._side_tasks.discard)
            elif isinstance(a, Reconnect):
                self._reconnect = a
                self._wake.set()

    def _create_req(self, a: SendCreate) -> rpc_pb2.WatchCreateRequest:
        s = a.spec
        filters: list[rpc_pb2.WatchCreateRequest.FilterType.ValueType] = []
        if s.no_put:
            filters.append(rpc_pb2.WatchCreateRequest.FilterType.NOPUT)
        if s.no_delete:
            filters.append(rpc_pb2.WatchCreateRequest.FilterType.NODELETE)
        return rpc_pb2.WatchCreateRequest(
            key=s.key,
            range_end=s.range_end,
            start_revision=a.start_revision,
            progress_notify=s.progress_notify,
            filters=filters,
            prev_kv=s.prev_kv,
            fragment=s.fragment,
        )

    async def _resync(self, a: NeedResync) -> None:
        req = rpc_pb2.RangeRequest(key=a.key, range_end=a.range_end)

        async def fn(s: Stubs, t: float | None, md: Metadata) -> rpc_pb2.RangeResponse:
            return await s.kv.Range(req, timeout=t, metadata=md)

        while a.wid in self._watches:
            try:
                resp = await self._tr.call(fn, idempotent=True, revision_of=lambda r: r.header.revision)
            except EtcdError as e:
                log.debug("resync read failed, retrying: %s", e)
                await asyncio.sleep(self._cfg.backoff_max)
                continue
            self._apply(self.core.resync_done(a.wid, self._ns.get(resp).kvs, resp.header.revision))
            self._wake.set()
            return

    # --- the stream loop -----------------------------------------------------------

    async def _run(self) -> None:
        tr = self._tr
        while self.core.live_watches() and not tr.closed and not self._closing:
            self._reconnect = None
            endpoint = tr.picker.current
            try:
                await self._stream(endpoint)
            except Exception as e:  # any failure means "reconnect": a watch must never die silently
                err = map_rpc_error(e, endpoint) if isinstance(e, grpc.RpcError) else e
                if isinstance(err, ClientClosedError):
                    return
                if not isinstance(err, EtcdError):
                    log.warning("unexpected watch stream error on %s", endpoint, exc_info=err)
                self._refresh_token = isinstance(err, InvalidAuthTokenError)
                log.debug("watch stream on %s failed: %s", endpoint, err)
                self._apply(self.core.stream_failed(str(err), time.monotonic()))
            rc = self._reconnect
            if rc is None or self._closing:
                continue
            log.debug("watch stream on %s: reconnecting in %.2fs (%s)", endpoint, rc.delay, rc.reason)
            self._refresh_token = self._refresh_token or rc.refresh_auth
            tr.report(False)
            if rc.rotate:
                tr.picker.failed(endpoint, EtcdError(rc.reason))
            await asyncio.sleep(rc.delay)

    async def _stream(self, endpoint: str) -> None:
        tr = self._tr
        stubs = await tr.wait_ready(endpoint, tr.config.dial_timeout)
        md = await tr.metadata(endpoint, stubs, refresh=self._refresh_token)
        self._refresh_token = False
        if self._cfg.require_leader:
            md = (*md, ("hasleader", "true"))
        call = stubs.watch.Watch(metadata=md)  # type: ignore[call-arg]
        self._outbox = asyncio.Queue()
        loop = asyncio.get_running_loop()
        reader = loop.create_task(self._read(call))
        writer = loop.create_task(self._write(call))
        log.debug("watch stream opened on %s", endpoint)
        self._apply(self.core.stream_opened(time.monotonic()))
        try:
            while self._reconnect is None and self.core.live_watches() and not self._closing:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.core.next_tick_in(time.monotonic()))
                for t in (reader, writer):
                    if t.done() and self._reconnect is None:
                        exc = t.exception()
                        if exc is not None:
                            raise exc
                        self._apply(self.core.stream_failed("stream ended by server", time.monotonic()))
                if self._reconnect is None:
                    self._apply(self.core.tick(time.monotonic()))
        finally:
            # Cancel our tasks before the call: a write blocked on a stalled
            # connection then unwinds through grpc's own cancel path.
            for t in (reader, writer):
                t.cancel()
            call.cancel()
            await _drain((reader, writer))
            if self.core.stream_open and self._reconnect is None:
                # Leaving with no watches left (or closing): mark the stream gone.
                self.core.stream_failed("stream closed", time.monotonic(), rotate=False)
                self._reconnect = None

    async def _write(self, call: grpc.aio.StreamStreamCall[rpc_pb2.WatchRequest, rpc_pb2.WatchResponse]) -> None:
        while True:
            req = await self._outbox.get()
            await call.write(req)

    async def _read(self, call: grpc.aio.StreamStreamCall[rpc_pb2.WatchRequest, rpc_pb2.WatchResponse]) -> None:
        ns = self._ns
        async for r in call:
            resp = WatchResponseIn(
                watch_id=r.watch_id,
                header=header(r.header),
                events=tuple(ns.event(e) for e in r.events),
                created=r.created,
                canceled=r.canceled,
                compact_revision=r.compact_revision,
                cancel_reason=r.cancel_reason,
                fragment=r.fragment,
            )
            if r.created:
                wid = self.core.creating
                self._tr.report(True)
                if wid is not None and wid in self._watches:
                    self._watches[wid]._created.set()
            actions = self.core.response(resp, time.monotonic())
            log.debug(
                "watch response id=%d created=%s canceled=%s events=%d -> %s",
                r.watch_id,
                r.created,
                r.canceled,
                len(r.events),
                actions,
            )
            self._apply(actions)
            if any(not isinstance(a, Deliver) for a in actions):
                self._wake.set()  # the stream loop has nothing to do after a mere delivery
