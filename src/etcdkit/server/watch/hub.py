"""The watch hub: a synchronous core that routes committed events to watchers.

Theory of operation. Every watcher is in exactly one group:

* **synced** — registered in a :class:`KeyIndex`; ``notify(rev, events)``
  (called by the apply loop for each committed revision, in order) looks up
  only the watchers whose range contains an event's key and queues one
  :class:`Delivery` per watcher holding all its events of that revision;
* **unsynced** — created with a start revision in the past; it replays
  history through ``EventSource.read_events`` in bounded batches and joins the
  synced group once its ``next_rev`` passes the current revision;
* **victim** — a synced watcher whose stream queue was full when an event
  arrived. Writes never wait: the watcher leaves the index with ``next_rev``
  set to the revision it missed and catches up from history like an unsynced
  one when its stream has room again.

Because ``notify`` is called for every revision before anything else can run
on the loop, a catch-up read up to ``current_revision()`` followed by joining
the index leaves neither a gap nor a duplicate. Catch-up work is done in
``take(stream)``, i.e. driven by each stream's own sender, so a stream that
does not read costs nothing but its bounded queue. ``on_compact`` cancels
unsynced and victim watchers whose ``next_rev`` fell below the compaction
point (``compact_revision`` set, header revision 0, as etcd).

Every state change that removes a watcher goes through ``_detach``, which acts
only on a watcher that is still attached: cancel is idempotent and the watcher
gauge can never go negative (etcd PR #11882).

No I/O, no clock: the gRPC servicer (``server/rpc/watch.py``) drives it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry

from etcdkit.api import errors
from etcdkit.api.errors import WireError
from etcdkit.api.keys import FROM_KEY
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.errors import EtcdServerError

from .codec import EncodedEvent, EventBatch
from .config import WatchConfig
from .key_index import KeyIndex
from .metrics import WatchMetrics
from .source import EventSource
from .stream import Control, Delivery, Watcher, WatcherState, WatchStream

__all__ = ["WatchHub"]

_NOPUT = rpc_pb2.WatchCreateRequest.NOPUT
_NODELETE = rpc_pb2.WatchCreateRequest.NODELETE
_SYNCED, _UNSYNCED, _VICTIM, _CANCELED = (
    WatcherState.SYNCED,
    WatcherState.UNSYNCED,
    WatcherState.VICTIM,
    WatcherState.CANCELED,
)


class WatchHub:
    """Watchers of all streams of one server, grouped as synced / unsynced / victims."""

    def __init__(
        self, source: EventSource, config: WatchConfig | None = None, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.source = source
        self.config = config or WatchConfig()
        self._index: KeyIndex[Watcher] = KeyIndex()
        self._slow: dict[Watcher, None] = {}  # unsynced + victims of every stream
        self._streams: dict[WatchStream, None] = {}
        self.watcher_count = 0
        self.pending_events = 0  # events queued and not yet taken by a sender
        self.events_sent = 0  # events handed to senders (monotonic)
        self.metrics = WatchMetrics(self, registry)

    # --- introspection --------------------------------------------------------
    @property
    def streams(self) -> list[WatchStream]:
        return list(self._streams)

    @property
    def slow_count(self) -> int:
        """Unsynced + victim watchers (etcd's slow watcher gauge)."""
        return len(self._slow)

    @property
    def synced_count(self) -> int:
        return len(self._index)

    # --- streams --------------------------------------------------------------
    def open_stream(self, wakeup: Callable[[], None], label: str = "") -> WatchStream:
        """Register a new stream; ``wakeup`` is called when it has something to send."""
        stream = WatchStream(wakeup, label)
        self._streams[stream] = None
        return stream

    def close_stream(self, stream: WatchStream) -> None:
        """Drop a stream and all its watchers (idempotent)."""
        if stream.closed:
            return
        stream.closed = True
        for w in stream.watchers.values():
            self._detach(w)
            w.discard = True
        stream.watchers.clear()
        self._drop_queue(stream)
        self._streams.pop(stream, None)

    # --- requests from a stream -------------------------------------------------
    def create(self, stream: WatchStream, req: rpc_pb2.WatchCreateRequest) -> Watcher | None:
        """Handle a create request; queue ``created`` (and a cancel when it fails).

        Rules (etcd 3.4.23): empty key means ``b"\\0"``; ``key >= range_end``
        (bounded range) and a duplicate client-chosen id fail with watch id -1;
        a start revision below the compaction point is created, then canceled
        with ``compact_revision``. A negative start revision is compared like
        etcd 3.4 does against its internal compact revision, which is -1 until
        the first compaction: ``-1`` then behaves as "from now" and ``< -1`` is
        canceled with ``compact_revision=-1``; after a compaction every negative
        start is canceled with the compaction revision.
        """
        if stream.closed:
            return None
        cur = self.source.current_revision()
        key = req.key or b"\x00"
        end = req.range_end
        if end and end != FROM_KEY and key >= end:
            self._fail_create(stream, cur, errors.WATCH_EMPTY_RANGE.message)
            return None
        wid = req.watch_id
        if wid != 0:
            if wid in stream.watchers:
                self._fail_create(stream, cur, errors.WATCH_DUPLICATE_ID.message)
                return None
        else:
            while stream.next_id in stream.watchers:
                stream.next_id += 1
            wid = stream.next_id
            stream.next_id += 1
        filters = set(req.filters)
        start = req.start_revision
        compact = self.source.compact_revision()
        w = Watcher(
            stream,
            wid,
            key,
            end,
            cur + 1,
            prev_kv=req.prev_kv,
            no_put=_NOPUT in filters,
            no_delete=_NODELETE in filters,
            progress_notify=req.progress_notify,
            fragment=req.fragment,
        )
        stream.watchers[wid] = w
        self.watcher_count += 1
        self._enqueue(stream, Control(wid, cur, created=True))
        etcd_compact = compact if compact > 0 else -1  # etcd's compactMainRev starts at -1
        if start != 0 and start < etcd_compact:
            self._cancel_compacted(w, etcd_compact)
        elif start <= 0 or start > cur:
            w.next_rev = max(start, cur + 1)
            self._to_synced(w)
        else:
            w.next_rev = start
            self._to_slow(w, _UNSYNCED)
        return w

    def cancel(self, stream: WatchStream, watch_id: int, reason: str = "") -> bool:
        """Cancel one watch of ``stream``; False (and nothing queued) if the id is unknown."""
        w = stream.watchers.pop(watch_id, None)
        if w is None or stream.closed:
            return False
        # Deliveries queued before the cancel are still sent (they precede the
        # canceled response, so a progress notification queued in between stays true).
        self._detach(w)
        self._enqueue(stream, Control(watch_id, self.source.current_revision(), canceled=True, cancel_reason=reason))
        return True

    def cancel_all(self, stream: WatchStream, reason: str) -> int:
        """Fault hook: cancel every watch of ``stream`` with ``reason``; returns how many."""
        return sum(self.cancel(stream, wid, reason) for wid in list(stream.watchers))

    def cancel_watches(self, reason: str, peer: str | None = None) -> int:
        """Fault hook: cancel every watch of the streams labelled ``peer`` (all if None)
        with ``cancel_reason=reason``; the streams stay open. Returns how many."""
        return sum(self.cancel_all(s, reason) for s in self.streams if peer is None or s.label == peer)

    def drop_streams(self, peer: str | None = None, error: WireError = errors.STOPPED) -> int:
        """Fault hook: make the senders of the streams labelled ``peer`` (all if None)
        end their RPC with ``error``; returns how many streams."""
        n = 0
        for s in self.streams:
            if peer is None or s.label == peer:
                s.drop = error
                s.wakeup()
                n += 1
        return n

    def request_progress(self, stream: WatchStream) -> bool:
        """Queue a stream-wide progress notification (watch id -1) if every watcher is synced."""
        if stream.closed or not stream.synced:
            return False
        self._enqueue(stream, Control(-1, self.source.current_revision()))
        return True

    def progress_tick(self, stream: WatchStream) -> int:
        """Periodic progress: notify each synced ``progress_notify`` watcher that got no events
        since the previous tick (etcd's ticker semantics); returns how many were notified."""
        if stream.closed:
            return 0
        cur, sent = self.source.current_revision(), 0
        for w in stream.watchers.values():
            if not w.progress_notify:
                continue
            if w.quiet and w.state == _SYNCED:
                self._enqueue(stream, Control(w.id, cur))
                sent += 1
            w.quiet = True
        return sent

    # --- from the apply loop ------------------------------------------------------
    def notify(self, revision: int, events: Sequence[kv_pb2.Event]) -> None:
        """Route the events of one committed revision to the synced watchers. Never blocks."""
        if not events or not self._index:
            return
        index = self._index
        if len(events) == 1:  # the common case, with _deliver/_enqueue inlined (per watcher)
            enc = EncodedEvent(events[0])
            is_put = enc.is_put
            batch: EventBatch | None = None
            capacity, queued = self.config.queue_capacity, 0
            for w in list(index.match(events[0].kv.key)):
                if w.next_rev > revision or (w.no_put if is_put else w.no_delete):
                    continue
                if batch is None:
                    batch = EventBatch((enc,))
                stream = w.stream
                if stream.event_items >= capacity:
                    self._to_victim(w, revision)
                    continue
                stream.event_items += 1
                queued += 1
                w.quiet = False
                stream.queue.append(Delivery(w, revision, batch))
                if not stream.signaled:
                    stream.signaled = True
                    stream.wakeup()
            self.pending_events += queued
            return
        encs = [EncodedEvent(e) for e in events]
        per: dict[Watcher, list[int]] = {}
        for i, enc in enumerate(encs):
            is_put = enc.is_put
            for w in index.match(enc.event.kv.key):
                if w.next_rev > revision or (w.no_put if is_put else w.no_delete):
                    continue
                got = per.get(w)
                if got is None:
                    per[w] = [i]
                else:
                    got.append(i)
        batches: dict[tuple[int, ...], EventBatch] = {}
        for w, idx in per.items():
            sig = tuple(idx)
            shared = batches.get(sig)
            if shared is None:
                shared = batches[sig] = EventBatch([encs[i] for i in idx])
            self._deliver(w, revision, shared)

    def on_compact(self, compact_revision: int) -> None:
        """Cancel catching-up watchers whose next revision was compacted away."""
        for w in [w for w in self._slow if w.next_rev < compact_revision]:
            self._cancel_compacted(w, compact_revision)

    # --- for the sender ------------------------------------------------------------
    def take(self, stream: WatchStream) -> list[Control | Delivery]:
        """Catch up what fits, then hand over up to ``take_max_items`` queued responses.

        An empty result with ``stream.synced`` False means: call again (catch-up
        made progress without producing a response).
        """
        stream.signaled = False
        if stream.catchup:
            self._pump(stream)
        queue, limit = stream.queue, self.config.take_max_items
        if len(queue) <= 1:  # the common case of a keeping-up sender: nothing to merge
            if not queue:
                return []
            item = queue.popleft()
            if type(item) is Delivery:
                stream.event_items -= 1
                n = item.batch.size
                self.pending_events -= n
                if item.watcher.discard:
                    return []
                self.events_sent += n
            return [item]
        out: list[Control | Delivery] = []
        # Backlog merging: consecutive deliveries (no control item in between) for the
        # same watcher become one response of whole revisions, as a catch-up would.
        # It only happens when the sender fell behind, and cuts per-message cost there.
        merge: dict[Watcher, int] = {}
        max_merged = self.config.catchup_max_events
        while queue and len(out) < limit:
            item = queue.popleft()
            if type(item) is Delivery:
                stream.event_items -= 1
                n = item.batch.size
                self.pending_events -= n
                w = item.watcher
                if w.discard:
                    continue
                self.events_sent += n
                j = merge.get(w)
                if j is not None:
                    prev = out[j]
                    assert type(prev) is Delivery
                    if prev.batch.size + n <= max_merged:
                        out[j] = Delivery(w, item.revision, EventBatch([*prev.batch.events, *item.batch.events]))
                        continue
                merge[w] = len(out)
            elif merge:
                merge.clear()
            out.append(item)
        return out

    # --- internals ----------------------------------------------------------------------
    def _enqueue(self, stream: WatchStream, item: Control | Delivery) -> None:
        stream.queue.append(item)
        if not stream.signaled:
            stream.signaled = True
            stream.wakeup()

    def _deliver(self, w: Watcher, revision: int, batch: EventBatch) -> None:
        stream = w.stream
        if stream.event_items >= self.config.queue_capacity:
            self._to_victim(w, revision)
            return
        stream.event_items += 1
        self.pending_events += batch.size
        w.quiet = False
        self._enqueue(stream, Delivery(w, revision, batch))

    def _to_victim(self, w: Watcher, revision: int) -> None:
        """``w``'s stream queue is full: it leaves the index and catches up from ``revision`` later."""
        self._index.remove(w, w.key, w.range_end)
        w.next_rev = revision
        self._to_slow(w, _VICTIM)

    def reject(self, stream: WatchStream, reason: str) -> None:
        """Refuse a create request (e.g. permission denied): created + canceled, watch id -1."""
        if not stream.closed:
            self._fail_create(stream, self.source.current_revision(), reason)

    def _fail_create(self, stream: WatchStream, cur: int, reason: str) -> None:
        self._enqueue(stream, Control(-1, cur, created=True, canceled=True, cancel_reason=reason))

    def _to_synced(self, w: Watcher) -> None:
        if w.state != _SYNCED:
            w.stream.catchup.pop(w, None)
            self._slow.pop(w, None)
            w.state = _SYNCED
            self._index.add(w, w.key, w.range_end)

    def _to_slow(self, w: Watcher, state: WatcherState) -> None:
        w.state = state
        w.stream.catchup[w] = None
        self._slow[w] = None

    def _detach(self, w: Watcher) -> bool:
        """Remove ``w`` from whatever group holds it; False if it was already detached."""
        if w.state == _SYNCED:
            self._index.remove(w, w.key, w.range_end)
        elif w.state == _CANCELED:
            return False
        else:
            w.stream.catchup.pop(w, None)
            self._slow.pop(w, None)
        w.state = _CANCELED
        self.watcher_count -= 1
        return True

    def _cancel_compacted(self, w: Watcher, compact_revision: int) -> None:
        # The watcher stays in stream.watchers (as in etcd, its id stays taken until
        # the client cancels it or the stream ends); queued deliveries are still sent.
        if self._detach(w):
            self._enqueue(w.stream, Control(w.id, 0, canceled=True, compact_revision=compact_revision))

    def _drop_queue(self, stream: WatchStream) -> None:
        for item in stream.queue:
            if type(item) is Delivery:
                self.pending_events -= item.batch.size
        stream.queue.clear()
        stream.event_items = 0
        stream.catchup.clear()

    def _pump(self, stream: WatchStream) -> None:
        budget = self.config.catchup_max_watchers
        capacity = self.config.queue_capacity
        while stream.catchup and budget > 0 and stream.event_items < capacity:
            budget -= 1
            self._catch_up(next(iter(stream.catchup)))

    def _catch_up(self, w: Watcher) -> None:
        """One bounded history read for ``w``; joins synced when it reaches the present."""
        src = self.source
        cur = src.current_revision()
        if w.next_rev > cur:
            self._to_synced(w)
            return
        compact = src.compact_revision()
        if compact > 0 and w.next_rev < compact:
            self._cancel_compacted(w, compact)
            return
        try:
            events = src.read_events(w.key, w.range_end, w.next_rev, cur, self.config.catchup_max_events)
        except EtcdServerError as exc:
            if exc.wire is not errors.COMPACTED:
                raise
            self._cancel_compacted(w, src.compact_revision())
            return
        last = int(events[-1].kv.mod_revision) if events else cur
        picked = [EncodedEvent(e) for e in events if not (w.no_put if e.type != kv_pb2.Event.DELETE else w.no_delete)]
        if picked:
            w.stream.event_items += 1
            self.pending_events += len(picked)
            w.quiet = False
            self._enqueue(w.stream, Delivery(w, cur, EventBatch(picked)))
        if last >= cur:
            w.next_rev = cur + 1
            self._to_synced(w)
        else:
            w.next_rev = last + 1
