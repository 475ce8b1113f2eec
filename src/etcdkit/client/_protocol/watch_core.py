"""Watch resume logic for one multiplexed watch stream (sans-IO).

Theory of operation
-------------------
Each watch keeps ``next_revision``: the revision of the first event it has
not delivered yet (last delivered revision + 1). Before its first
``created`` reply, a watch started "now" has ``next_revision == 0`` and the
created reply's header revision fixes it (events after creation start at
header revision + 1).

A stream carries many watches. Creates are sent one at a time, because
etcd answers creates in order and the answer is the only place the server's
watch id appears. When the stream fails, for whatever reason, every watch
goes back to PENDING and is re-created on the next stream at its
``next_revision``: nothing is missed (the server replays from there) and
nothing is repeated (events below ``next_revision`` are dropped, should a
server ever resend them). Events are delivered in whole responses; a
fragmented response is buffered until its last fragment, so one revision is
never split.

A cancel carrying ``compact_revision`` means the history the watch needs
is gone: the watch fails with ``WatchCompactedError`` or, in resync mode,
asks the driver to read the range (``NeedResync``) and then emits the
difference against the keys it knew as synthetic events with a resync
marker. Any other server cancel is treated as a stream failure (reconnect
with backoff, resume), except permission errors, which no retry can fix.

Stall detection: ``tick(now)`` asks for a progress request after
``progress_interval`` seconds of silence and declares the stream stalled
after ``stall_timeout`` seconds of silence; the driver then moves to
another endpoint. While the driver has stopped reading the stream because
a consumer is slow (``pause``), silence is ours, not the server's: no
progress request, no stall, and the silence clock restarts at ``unpause``.

A watch can move between cores (from the shared stream to a stream of its
own): ``detach`` forgets it here (cancelling it on the server) and returns
its position, ``add(..., resume=...)`` re-registers it there at that
position, with its counters and resync key map.

Inputs: ``add``, ``cancel``, ``detach``, ``stream_opened``, ``response``,
``stream_failed``, ``tick``, ``pause``/``unpause``, ``resync_done``. Outputs: lists of the
action dataclasses below, to be carried out in order.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from etcdkit.client.exceptions import (
    AuthError,
    EtcdError,
    UnknownServerError,
    WatchCanceledByServer,
    WatchCompactedError,
)
from etcdkit.client.server_errors import error_for_message
from etcdkit.client.types import Event, EventType, KeyValue, ResponseHeader, WatchBatch

__all__ = [
    "Deliver",
    "Detached",
    "Fail",
    "NeedResync",
    "Reconnect",
    "SendCancel",
    "SendCreate",
    "SendProgress",
    "WatchCore",
    "WatchResponseIn",
    "WatchSpec",
    "WatchStats",
]


@dataclass(frozen=True, slots=True)
class WatchSpec:
    """What the user asked for (keys already namespaced by the driver)."""

    key: bytes
    range_end: bytes = b""
    start_revision: int = 0
    prev_kv: bool = False
    no_put: bool = False
    no_delete: bool = False
    progress_notify: bool = False
    fragment: bool = False
    resync: bool = False


@dataclass(frozen=True, slots=True)
class WatchResponseIn:
    """The fields of a ``WatchResponse`` the core needs."""

    watch_id: int
    header: ResponseHeader
    events: tuple[Event, ...] = ()
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""
    fragment: bool = False


@dataclass(slots=True)
class WatchStats:
    """Per-watch counters, exported to users."""

    reconnects: int = 0
    resyncs: int = 0
    events: int = 0
    last_header_revision: int = 0
    next_revision: int = 0
    queued: int = 0  # events received and waiting for the consumer (filled in by the driver)
    queued_peak: int = 0  # the most events ever waiting at once
    pauses: int = 0  # times its stream stopped reading because this watch's queue was full
    own_stream: bool = False  # moved off the shared stream because its consumer was slow

    @property
    def lag(self) -> int:
        """Revisions between the newest the server reported and the last delivered."""
        if self.next_revision <= 0:
            return 0
        return max(0, self.last_header_revision - (self.next_revision - 1))


# --- actions -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendCreate:
    wid: int
    spec: WatchSpec
    start_revision: int


@dataclass(frozen=True, slots=True)
class SendCancel:
    server_id: int


@dataclass(frozen=True, slots=True)
class SendProgress:
    pass


@dataclass(frozen=True, slots=True)
class Deliver:
    wid: int
    batch: WatchBatch


@dataclass(frozen=True, slots=True)
class Fail:
    wid: int
    error: EtcdError


@dataclass(frozen=True, slots=True)
class NeedResync:
    wid: int
    key: bytes
    range_end: bytes


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Close the stream, wait ``delay`` seconds, open a new one (on the next endpoint if ``rotate``)."""

    delay: float
    rotate: bool
    reason: str
    refresh_auth: bool = False


@dataclass(frozen=True, slots=True)
class Detached:
    """A watch taken out of one core, to be added to another at the same position."""

    spec: WatchSpec
    next_revision: int
    known: dict[bytes, int] | None
    stats: WatchStats


Action = SendCreate | SendCancel | SendProgress | Deliver | Fail | NeedResync | Reconnect


class _Status(enum.Enum):
    PENDING = "pending"  # to be created on the next (or current) stream
    CREATING = "creating"  # create sent, waiting for `created`
    ACTIVE = "active"
    RESYNCING = "resyncing"  # waiting for the driver's range read
    DONE = "done"


@dataclass(slots=True)
class _Watch:
    spec: WatchSpec
    next_revision: int
    status: _Status = _Status.PENDING
    server_id: int | None = None
    fragments: list[Event] = field(default_factory=list)
    known: dict[bytes, int] | None = None  # resync mode: key -> mod_revision
    auth_retried: bool = False  # a refused create already caused one token refresh
    stats: WatchStats = field(default_factory=WatchStats)


class WatchCore:
    """Bookkeeping for every watch of one client-side stream."""

    def __init__(
        self,
        *,
        progress_interval: float,
        stall_timeout: float,
        backoff_initial: float,
        backoff_max: float,
        rng: Callable[[], float],
    ) -> None:
        self._progress_interval = progress_interval
        self._stall_timeout = stall_timeout
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._rng = rng
        self._watches: dict[int, _Watch] = {}
        self._by_server: dict[int, int] = {}
        self._creating: int | None = None
        self._next_wid = 1
        self._open = False
        self._last_recv = 0.0
        self._progress_sent = False
        self._failures = 0
        self._paused = False
        # A create whose watch the user cancelled before `created` came back.
        self._orphan_create = False

    # --- queries -------------------------------------------------------------

    @property
    def stream_open(self) -> bool:
        return self._open

    @property
    def creating(self) -> int | None:
        """The watch whose create is in flight (its `created` reply is the next one)."""
        return self._creating

    def live_watches(self) -> int:
        return sum(1 for w in self._watches.values() if w.status is not _Status.DONE)

    def has(self, wid: int) -> bool:
        return wid in self._watches

    def stats(self, wid: int) -> WatchStats:
        w = self._watches[wid]
        w.stats.next_revision = w.next_revision
        return w.stats

    # --- inputs ----------------------------------------------------------------

    def add(
        self, spec: WatchSpec, known: dict[bytes, int] | None = None, *, resume: Detached | None = None
    ) -> tuple[int, list[Action]]:
        """Register a watch; ``known`` seeds the key map of a resync-mode watch.

        With ``resume`` (from another core's ``detach``) the watch continues at
        that position, with its counters and key map; ``spec``/``known`` are ignored.
        """
        wid = self._next_wid
        self._next_wid += 1
        if resume is not None:
            w = _Watch(resume.spec, resume.next_revision, known=resume.known, stats=resume.stats)
        else:
            w = _Watch(spec, spec.start_revision)
            if spec.resync:
                w.known = dict(known or {})
        self._watches[wid] = w
        return wid, self._maybe_create()

    def detach(self, wid: int) -> tuple[Detached | None, list[Action]]:
        """Take a watch out of this core (cancelling it on the server); its position goes along.

        Responses still in flight for it are dropped here; since its position
        is last delivered revision + 1, the core it moves to asks for them again.
        """
        w = self._watches.get(wid)
        if w is None:
            return None, []
        state = Detached(w.spec, w.next_revision, w.known, w.stats)
        return state, self.cancel(wid)

    def cancel(self, wid: int) -> list[Action]:
        """The user closed a watch: forget it and cancel it on the server if it exists there."""
        w = self._watches.pop(wid, None)
        if w is None:
            return []
        actions: list[Action] = []
        if w.server_id is not None:
            self._by_server.pop(w.server_id, None)
            if self._open:
                actions.append(SendCancel(w.server_id))
        if self._creating == wid:
            # Its `created` reply will still come; cancel it then.
            self._creating = None
            self._orphan_create = True
        return actions + self._maybe_create()

    def pause(self) -> None:
        """The driver stopped reading the stream (a consumer's queue is full): suspend stall detection."""
        self._paused = True

    def unpause(self, now: float) -> None:
        """The driver reads again: the silence clock restarts now."""
        self._paused = False
        self._last_recv = now
        self._progress_sent = False

    def stream_opened(self, now: float) -> list[Action]:
        self._open = True
        self._paused = False
        self._last_recv = now
        self._progress_sent = False
        self._orphan_create = False
        return self._maybe_create()

    def stream_failed(self, reason: str, now: float, *, rotate: bool = True) -> list[Action]:
        """The stream broke (error, end, stall): every watch goes back to PENDING."""
        was_open = self._open
        self._open = False
        self._paused = False
        self._creating = None
        self._orphan_create = False
        self._by_server.clear()
        for w in self._watches.values():
            w.server_id = None
            w.fragments.clear()
            if w.status in (_Status.CREATING, _Status.ACTIVE):
                w.status = _Status.PENDING
                if was_open:
                    w.stats.reconnects += 1
        self._failures += 1
        if not self._watches:
            return []
        return [Reconnect(self._backoff(), rotate, reason)]

    def response(self, r: WatchResponseIn, now: float) -> list[Action]:
        self._last_recv = now
        self._progress_sent = False
        if r.created:
            return self._on_created(r)
        wid = self._by_server.get(r.watch_id)
        if wid is None:
            return []  # progress reply (watch_id -1) or a watch we cancelled
        w = self._watches[wid]
        w.stats.last_header_revision = max(w.stats.last_header_revision, r.header.revision)
        if r.canceled:
            return self._on_canceled(wid, w, r, now)
        if r.fragment:
            w.fragments.extend(r.events)
            return []
        events = (*w.fragments, *r.events) if w.fragments else r.events
        w.fragments.clear()
        if not events:
            # A per-watch progress notification: etcd sends it only when the
            # watcher has every event up to the header revision.
            if w.spec.progress_notify and r.header.revision + 1 > w.next_revision:
                w.next_revision = r.header.revision + 1
            return []
        return self._deliver(wid, w, events, r.header)

    def tick(self, now: float) -> list[Action]:
        if not self._open or not self._watches or self._paused:
            return []
        silent = now - self._last_recv
        if silent >= self._stall_timeout:
            return self.stream_failed(f"stream stalled: no response for {silent:.1f}s", now, rotate=True)
        if silent >= self._progress_interval and not self._progress_sent:
            self._progress_sent = True
            return [SendProgress()]
        return []

    def next_tick_in(self, now: float) -> float:
        """Seconds until ``tick`` may have something to do."""
        if not self._open or self._paused:
            return self._progress_interval
        target = self._stall_timeout if self._progress_sent else self._progress_interval
        return max(0.01, self._last_recv + target - now)

    def resync_done(self, wid: int, kvs: tuple[KeyValue, ...], revision: int) -> list[Action]:
        """The driver read the range at ``revision``; emit the difference and resume after it."""
        w = self._watches.get(wid)
        if w is None or w.known is None:
            return []
        events: list[Event] = []
        seen: set[bytes] = set()
        for kv in kvs:
            seen.add(kv.key)
            if w.known.get(kv.key) != kv.mod_revision and not w.spec.no_put:
                events.append(Event(EventType.PUT, kv, synthetic=True))
        if not w.spec.no_delete:
            for key in sorted(set(w.known) - seen):
                events.append(Event(EventType.DELETE, KeyValue(key, mod_revision=revision), synthetic=True))
        w.known = {kv.key: kv.mod_revision for kv in kvs}
        w.next_revision = revision + 1
        w.status = _Status.PENDING
        w.stats.resyncs += 1
        batch = WatchBatch(tuple(events), ResponseHeader(revision=revision), resync=True)
        return [Deliver(wid, batch), *self._maybe_create()]

    # --- internals ---------------------------------------------------------------

    def _maybe_create(self) -> list[Action]:
        if not self._open or self._creating is not None or self._orphan_create:
            return []
        for wid, w in self._watches.items():
            if w.status is _Status.PENDING:
                w.status = _Status.CREATING
                self._creating = wid
                return [SendCreate(wid, w.spec, w.next_revision)]
        return []

    def _on_created(self, r: WatchResponseIn) -> list[Action]:
        if self._orphan_create:
            # The user cancelled this watch while its create was in flight.
            self._orphan_create = False
            actions: list[Action] = [] if r.canceled else [SendCancel(r.watch_id)]
            return actions + self._maybe_create()
        wid = self._creating
        if wid is None:
            return []
        self._creating = None
        w = self._watches[wid]
        if r.canceled:
            err = self._cancel_error(r.cancel_reason)
            if isinstance(err, AuthError) and not w.auth_retried:
                # etcd refuses a create made with an expired token as "permission
                # denied": refresh the token once and try again on a new stream.
                w.auth_retried = True
                w.status = _Status.PENDING
                actions = self.stream_failed(f"watch create refused: {r.cancel_reason}", 0.0, rotate=False)
                return [
                    Reconnect(a.delay, a.rotate, a.reason, refresh_auth=True)
                    for a in actions
                    if isinstance(a, Reconnect)
                ]
            # Refused for good (no permission, bad range...): no retry fixes it.
            w.status = _Status.DONE
            return [Fail(wid, err), *self._maybe_create()]
        w.status = _Status.ACTIVE
        w.auth_retried = False
        w.server_id = r.watch_id
        self._by_server[r.watch_id] = wid
        self._failures = 0
        if w.next_revision <= 0:
            w.next_revision = r.header.revision + 1
        w.stats.last_header_revision = max(w.stats.last_header_revision, r.header.revision)
        return self._maybe_create()

    def _on_canceled(self, wid: int, w: _Watch, r: WatchResponseIn, now: float) -> list[Action]:
        self._by_server.pop(r.watch_id, None)
        w.server_id = None
        w.fragments.clear()
        if r.compact_revision > 0:
            if w.known is not None:
                w.status = _Status.RESYNCING
                return [NeedResync(wid, w.spec.key, w.spec.range_end)]
            w.status = _Status.DONE
            return [Fail(wid, WatchCompactedError(r.compact_revision, w.next_revision))]
        err = self._cancel_error(r.cancel_reason)
        if isinstance(err, AuthError):
            w.status = _Status.DONE
            return [Fail(wid, err)]
        # Any other reason (no leader, server shutting watchers down...):
        # treat like a broken stream so the watch resumes after a backoff.
        return self.stream_failed(f"server cancelled watch: {r.cancel_reason or 'no reason'}", now)

    @staticmethod
    def _cancel_error(reason: str) -> EtcdError:
        err = error_for_message(reason) if reason else None
        if err is None or type(err) is UnknownServerError:
            return WatchCanceledByServer(reason)
        return err

    def _deliver(self, wid: int, w: _Watch, events: tuple[Event, ...], header: ResponseHeader) -> list[Action]:
        if events[0].kv.mod_revision >= w.next_revision:
            fresh = events  # events come in revision order: all of them are new
        else:
            fresh = tuple(e for e in events if e.kv.mod_revision >= w.next_revision)
            if not fresh:
                return []
        w.next_revision = fresh[-1].kv.mod_revision + 1
        w.stats.events += len(fresh)
        if w.known is not None:
            for e in fresh:
                if e.type is EventType.PUT:
                    w.known[e.kv.key] = e.kv.mod_revision
                else:
                    w.known.pop(e.kv.key, None)
        return [Deliver(wid, WatchBatch(fresh, header))]

    def _backoff(self) -> float:
        doublings = max(0, min(self._failures - 1, 30))
        base = min(self._backoff_max, self._backoff_initial * float(1 << doublings))
        return base * (0.5 + 0.5 * self._rng())
