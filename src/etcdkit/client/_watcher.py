"""The watch driver: one gRPC Watch stream carrying every watch of a client.

The decisions live in ``_protocol.watch_core.WatchCore``; this module only
carries them out: it opens the stream (with ``hasleader: true`` metadata so
a member that lost its leader cancels instead of going silent), writes what
the core asks for (through one writer task, since a gRPC stream takes one
writer), feeds every response and failure back, ticks the core for
progress requests and stall detection, and sleeps the backoff it chooses.

``Watch`` (``_watch_handle``) is the user's handle: an async iterator of
``WatchBatch`` that ends with the watch's error (``WatchCompactedError``...)
or when closed.

Slow consumers (bounded delivery). Each watch's queue holds at most
``WatchConfig.max_queued_events`` events (plus one response: a revision is
never split). Watches share one stream, so a full queue must not stop that
stream, or one slow consumer would stall every other watch (head-of-line
blocking). Policy:

* on the shared stream, a watch whose queue fills up is moved to a stream
  of its own (a ``WatchHub`` with ``dedicated=True``, a child of the shared
  one): it is cancelled on the shared stream and created on the new one at
  its ``next_revision`` (last delivered + 1), so nothing is lost or repeated;
  the other watches never wait for it;
* on its own stream, a full queue makes the reader stop reading until the
  consumer makes room: gRPC stops granting HTTP/2 flow-control credit and
  the server holds the events (etcd turns such watchers into "victims" and
  catches them up from history later). While stopped, the core's stall
  detection is paused: a slow consumer is not a stalled server.
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
from etcdkit.client._fork import check_aio_usable
from etcdkit.client._protocol.watch_core import (
    Action,
    Deliver,
    Detached,
    Fail,
    NeedResync,
    Reconnect,
    SendCancel,
    SendCreate,
    SendProgress,
    WatchCore,
    WatchResponseIn,
    WatchSpec,
)
from etcdkit.client._transport import Metadata, Stubs, Transport, map_rpc_error
from etcdkit.client._watch_handle import Watch
from etcdkit.client.exceptions import ClientClosedError, EtcdError
from etcdkit.client.server_errors import InvalidAuthTokenError

__all__ = ["Watch", "WatchHub"]

log = logging.getLogger("etcdkit.client.watch")


async def _drain(tasks: tuple[asyncio.Task[None], ...]) -> None:
    """Wait (bounded) for cancelled stream tasks to finish, swallowing their errors."""
    _, pending = await asyncio.wait(tasks, timeout=5.0)
    for t in pending:  # pragma: no cover - grpc did not unwind; do not hang close()
        log.warning("watch stream task %s did not stop after cancel", t.get_name())
    for t in tasks:
        if t.done() and not t.cancelled():
            t.exception()  # retrieved: no "exception never retrieved" warning


class WatchHub:
    """Owns one stream: its WatchCore and the task that drives it.

    The client's hub carries every new watch; ``dedicated`` hubs are its
    children, each carrying one watch moved there because its consumer was slow.
    """

    def __init__(self, transport: Transport, ns: Namespace, *, dedicated: bool = False) -> None:
        self._tr = transport
        self._ns = ns
        self._dedicated = dedicated
        self._children: set[WatchHub] = set()
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
        check_aio_usable()
        wid, actions = self.core.add(spec, known)
        w = Watch(self, wid, self._cfg.max_queued_events)
        self._watches[wid] = w
        self._apply(actions)
        self._start()
        return w

    def _start(self) -> None:
        if self._task is None or self._task.done():
            name = "etcdkit-watch-own-stream" if self._dedicated else "etcdkit-watch-stream"
            self._task = asyncio.get_running_loop().create_task(self._run(), name=name)

    def _adopt(self, w: Watch, state: Detached) -> None:
        """Take over a watch detached from the shared stream, at its position."""
        state.stats.own_stream = True
        wid, actions = self.core.add(state.spec, resume=state)
        w._hub, w.wid = self, wid
        self._watches[wid] = w
        self._apply(actions)
        self._start()

    def _move_to_own_stream(self, w: Watch) -> None:
        """The shared stream must not wait for ``w``'s consumer: give ``w`` a stream of its own."""
        state, actions = self.core.detach(w.wid)
        del self._watches[w.wid]
        self._apply(actions)
        if state is None:  # pragma: no cover - the core knows every watch the hub knows
            return
        log.debug("watch %d: consumer is slow (%d events queued), moving it to its own stream", w.wid, w.stats.queued)
        child = WatchHub(self._tr, self._ns, dedicated=True)
        self._children = {c for c in self._children if c._task is None or not c._task.done()}
        self._children.add(child)
        child._adopt(w, state)

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
        for child in list(self._children):
            await child.close()
        self._children.clear()
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
                    if w.full and not self._dedicated:
                        self._move_to_own_stream(w)
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
                # Report at once, not after the stream's tasks are drained: the watch's
                # reconnect counter and the client's state must change together.
                self._tr.report(False)
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
            if self._dedicated:
                await self._apply_in_order(actions)
                self._wake.set()
            else:
                n = len(self._watches)
                self._apply(actions)
                if len(self._watches) != n or any(not isinstance(a, Deliver) for a in actions):
                    self._wake.set()  # a mere delivery leaves the stream loop nothing to do

    async def _apply_in_order(self, actions: list[Action]) -> None:
        """``_apply``, but wait for room before each delivery (own stream: backpressure).

        While this waits, nothing reads the stream, so HTTP/2 flow control
        holds the server back; the core's stall detection is paused meanwhile.
        """
        for a in actions:
            if isinstance(a, Deliver):
                w = self._watches.get(a.wid)
                if w is not None and w.full:
                    self.core.stats(a.wid).pauses += 1
                    self.core.pause()
                    try:
                        await w.wait_room()
                    finally:
                        self.core.unpause(time.monotonic())
                        self._wake.set()
            self._apply([a])
