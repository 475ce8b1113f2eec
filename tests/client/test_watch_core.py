"""The watch resume core against a scripted fake server (no gRPC, no clock).

The Hypothesis test drives ``WatchCore`` through random interleavings of
server replies (whole revisions, fragments, stale replays), stream failures,
stalls, progress requests and compactions, and checks the watch guarantees:
every revision delivered exactly once and in order, never split across
batches; a compaction past the watch's position ends it with
``WatchCompactedError`` carrying the compact revision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcdkit.client import Event, EventType, KeyValue, ResponseHeader, WatchCanceledByServer, WatchCompactedError
from etcdkit.client._protocol.connection import ConnectionState, ConnectionTracker
from etcdkit.client._protocol.endpoints import EndpointPicker, RevisionFloor
from etcdkit.client._protocol.keepalive import KeepAliveSchedule
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
)

PROGRESS, STALL = 1.0, 3.0


def make_core() -> WatchCore:
    return WatchCore(
        progress_interval=PROGRESS, stall_timeout=STALL, backoff_initial=0.1, backoff_max=1.0, rng=lambda: 0.5
    )


def ev(rev: int, i: int = 0, key: bytes = b"k") -> Event:
    return Event(EventType.PUT, KeyValue(key, f"{rev}-{i}".encode(), mod_revision=rev))


def hdr(rev: int) -> ResponseHeader:
    return ResponseHeader(revision=rev)


@dataclass
class FakeServer:
    """A tiny etcd: a history of revisions, a compaction point, one stream at a time."""

    history: dict[int, list[Event]]
    head: int
    compacted: int = 0
    next_id: int = 0
    # per server watch id: next revision to send
    pos: dict[int, int] = field(default_factory=dict)
    pending_creates: list[int] = field(default_factory=list)  # start revisions, in order
    progress_due: bool = False

    def new_stream(self) -> None:
        self.pos.clear()
        self.pending_creates.clear()
        self.progress_due = False

    def handle(self, a: Action) -> None:
        if isinstance(a, SendCreate):
            self.pending_creates.append(a.start_revision)
        elif isinstance(a, SendCancel):
            self.pos.pop(a.server_id, None)
        elif isinstance(a, SendProgress):
            self.progress_due = True


@dataclass
class Sink:
    delivered: dict[int, list[tuple[Event, ...]]] = field(default_factory=dict)
    failed: dict[int, BaseException] = field(default_factory=dict)


def apply(core: WatchCore, srv: FakeServer, sink: Sink, actions: list[Action], now: float) -> bool:
    """Carry out actions; returns True if a reconnect was requested."""
    reconnect = False
    for a in actions:
        if isinstance(a, Deliver):
            sink.delivered.setdefault(a.wid, []).append(a.batch.events)
        elif isinstance(a, Fail):
            sink.failed[a.wid] = a.error
        elif isinstance(a, Reconnect):
            reconnect = True
        elif isinstance(a, NeedResync):
            raise AssertionError("no resync-mode watch in this test")
        else:
            srv.handle(a)
    return reconnect


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_resume_never_misses_repeats_or_splits(data: st.DataObject) -> None:
    n_revs = data.draw(st.integers(5, 40), label="revisions")
    history = {r: [ev(r, i) for i in range(data.draw(st.integers(1, 3)))] for r in range(2, n_revs + 2)}
    last_rev = n_revs + 1
    srv = FakeServer(history, head=data.draw(st.integers(1, last_rev // 2 + 1)))
    core, sink, now = make_core(), Sink(), 0.0

    wid_now, acts = core.add(WatchSpec(b"k"))
    wid_old, acts2 = core.add(WatchSpec(b"k", start_revision=2))
    srv.new_stream()
    apply(core, srv, sink, acts + acts2 + core.stream_opened(now), now)

    def reply(r: WatchResponseIn) -> bool:
        return apply(core, srv, sink, core.response(r, now), now)

    for _ in range(200):
        live = [w for w in (wid_now, wid_old) if w not in sink.failed]
        if not live:
            break
        done = (
            all(srv.pos.get(sid, 0) > srv.head for sid in srv.pos)
            and not srv.pending_creates
            and srv.head == last_rev
            and len(srv.pos) == len(live)
        )
        if done:
            break
        step = data.draw(
            st.sampled_from(["reply", "reply", "reply", "reply", "advance", "fail", "stall", "compact", "progress"])
        )
        reconnect = False
        if step == "advance" and srv.head < last_rev:
            srv.head += 1
        elif step == "compact" and data.draw(st.integers(0, 4)) == 0:
            srv.compacted = data.draw(st.integers(srv.compacted, srv.head))
        elif step == "fail":
            reconnect = apply(core, srv, sink, core.stream_failed("boom", now), now)
            assert reconnect
        elif step == "stall":
            now += STALL
            reconnect = apply(core, srv, sink, core.tick(now), now)
            assert reconnect
        elif step == "progress":
            now += PROGRESS
            reconnect = apply(core, srv, sink, core.tick(now), now)
            if srv.progress_due:
                srv.progress_due = False
                reconnect |= reply(WatchResponseIn(watch_id=-1, header=hdr(srv.head)))
        else:
            reconnect = server_reply(srv, data, reply)
        if reconnect:
            now += 1.0
            srv.new_stream()
            apply(core, srv, sink, core.stream_opened(now), now)

    check(core, srv, sink, wid_now, wid_old, history)


def server_reply(srv: FakeServer, data: st.DataObject, send: Callable[[WatchResponseIn], bool]) -> bool:
    """One server move: answer a create, or send the next revisions of one watcher (maybe fragmented)."""
    if srv.pending_creates:
        start = srv.pending_creates.pop(0)
        sid = srv.next_id
        srv.next_id += 1
        srv.pos[sid] = start if start > 0 else srv.head + 1
        return send(WatchResponseIn(watch_id=sid, header=hdr(srv.head), created=True))
    ready = [sid for sid, p in srv.pos.items() if p <= srv.head]
    if not ready:
        return False
    sid = data.draw(st.sampled_from(sorted(ready)))
    p = srv.pos[sid]
    if p <= srv.compacted:
        del srv.pos[sid]
        r = WatchResponseIn(watch_id=sid, header=hdr(srv.head), canceled=True, compact_revision=srv.compacted + 1)
        return send(r)
    # Sometimes replay a revision already sent (a buggy or confused server): must be dropped.
    replay = data.draw(st.integers(0, 5)) == 0 and p - 1 in srv.history
    upto = min(srv.head, p + data.draw(st.integers(0, 2)))
    events = [e for r in range(p - 1 if replay else p, upto + 1) for e in srv.history[r]]
    srv.pos[sid] = upto + 1
    if data.draw(st.booleans()) and len(events) > 1:
        cut = data.draw(st.integers(1, len(events) - 1))
        parts = [events[:cut], events[cut:]]
    else:
        parts = [events]
    for i, part in enumerate(parts):
        frag = i < len(parts) - 1
        if send(WatchResponseIn(watch_id=sid, header=hdr(srv.head), events=tuple(part), fragment=frag)):
            return True
    return False


def check(
    core: WatchCore, srv: FakeServer, sink: Sink, wid_now: int, wid_old: int, history: dict[int, list[Event]]
) -> None:
    for wid in (wid_now, wid_old):
        batches = sink.delivered.get(wid, [])
        flat = [e for b in batches for e in b]
        revs = [e.kv.mod_revision for e in flat]
        if flat:
            first = revs[0]
            expected = [e for r in sorted(history) if first <= r <= revs[-1] for e in history[r]]
            assert flat == expected, "missed, repeated or reordered events"
        for b in batches:
            for r in {e.kv.mod_revision for e in b}:
                assert [e for e in b if e.kv.mod_revision == r] == history[r], f"revision {r} split"
        if wid == wid_old and flat:
            assert revs[0] == 2, "a watch from revision 2 must start there"
        err = sink.failed.get(wid)
        if err is not None:
            assert isinstance(err, WatchCompactedError)
            assert err.compact_revision > err.next_revision - 1 >= 0 or err.next_revision == 0
            assert err.next_revision == (revs[-1] + 1 if revs else err.next_revision)
        else:
            assert core.stats(wid).next_revision == (revs[-1] + 1 if revs else core.stats(wid).next_revision)


# --- table-driven unit tests ------------------------------------------------------


def test_created_fixes_next_revision_and_events_advance_it() -> None:
    core = make_core()
    wid, acts = core.add(WatchSpec(b"k"))
    assert acts == []  # no stream yet
    [create] = core.stream_opened(0.0)
    assert create == SendCreate(wid, WatchSpec(b"k"), 0)
    assert core.response(WatchResponseIn(7, hdr(10), created=True), 0.0) == []
    assert core.stats(wid).next_revision == 11
    [d] = core.response(WatchResponseIn(7, hdr(12), events=(ev(11), ev(12))), 0.0)
    assert isinstance(d, Deliver) and [e.kv.mod_revision for e in d.batch.events] == [11, 12]
    st_ = core.stats(wid)
    assert st_.next_revision == 13 and st_.events == 2 and st_.lag == 0
    core.response(WatchResponseIn(-1, hdr(20)), 0.0)  # progress reply for the stream: ignored
    core.response(WatchResponseIn(7, hdr(20)), 0.0)  # no progress_notify asked: position unchanged
    assert core.stats(wid).next_revision == 13 and core.stats(wid).lag == 8


def test_stream_failure_recreates_at_next_revision_and_drops_replays() -> None:
    core = make_core()
    wid, _ = core.add(WatchSpec(b"k", prev_kv=True))
    core.stream_opened(0.0)
    core.response(WatchResponseIn(0, hdr(5), created=True), 0.0)
    core.response(WatchResponseIn(0, hdr(6), events=(ev(6),)), 0.0)
    [rc] = core.stream_failed("reset", 1.0)
    assert isinstance(rc, Reconnect) and rc.rotate and 0 < rc.delay <= 1.0
    [create] = core.stream_opened(2.0)
    assert isinstance(create, SendCreate) and create.start_revision == 7
    core.response(WatchResponseIn(3, hdr(8), created=True), 2.0)
    [d] = core.response(WatchResponseIn(3, hdr(8), events=(ev(6), ev(7))), 2.0)
    assert isinstance(d, Deliver) and [e.kv.mod_revision for e in d.batch.events] == [7]
    assert core.stats(wid).reconnects == 1


def test_creates_are_serialised_and_mapped_in_order() -> None:
    core = make_core()
    a, _ = core.add(WatchSpec(b"a"))
    b, _ = core.add(WatchSpec(b"b"))
    [ca] = core.stream_opened(0.0)
    assert isinstance(ca, SendCreate) and ca.wid == a
    [cb] = core.response(WatchResponseIn(10, hdr(1), created=True), 0.0)
    assert isinstance(cb, SendCreate) and cb.wid == b
    assert core.response(WatchResponseIn(11, hdr(1), created=True), 0.0) == []
    [d] = core.response(WatchResponseIn(11, hdr(2), events=(ev(2, key=b"b"),)), 0.0)
    assert isinstance(d, Deliver) and d.wid == b


def test_fragments_are_merged() -> None:
    core = make_core()
    core.add(WatchSpec(b"k", fragment=True))
    core.stream_opened(0.0)
    core.response(WatchResponseIn(0, hdr(1), created=True), 0.0)
    assert core.response(WatchResponseIn(0, hdr(2), events=(ev(2, 0),), fragment=True), 0.0) == []
    [d] = core.response(WatchResponseIn(0, hdr(2), events=(ev(2, 1),)), 0.0)
    assert isinstance(d, Deliver) and len(d.batch.events) == 2


def test_compaction_fails_watch_with_compact_revision() -> None:
    core = make_core()
    core.add(WatchSpec(b"k", start_revision=3))
    core.stream_opened(0.0)
    core.response(WatchResponseIn(0, hdr(50), created=True), 0.0)
    [f] = core.response(WatchResponseIn(0, hdr(50), canceled=True, compact_revision=40), 0.0)
    assert isinstance(f, Fail) and isinstance(f.error, WatchCompactedError)
    assert f.error.compact_revision == 40 and f.error.next_revision == 3
    assert core.live_watches() == 0


def test_resync_mode_emits_differences() -> None:
    core = make_core()
    known = {b"a": 2, b"gone": 3, b"same": 4}
    wid, _ = core.add(WatchSpec(b"", b"\0", start_revision=5, resync=True), known)
    core.stream_opened(0.0)
    core.response(WatchResponseIn(0, hdr(9), created=True), 0.0)
    [need] = core.response(WatchResponseIn(0, hdr(9), canceled=True, compact_revision=8), 0.0)
    assert isinstance(need, NeedResync)
    kvs = (
        KeyValue(b"a", b"new", mod_revision=7),
        KeyValue(b"new", b"n", mod_revision=6),
        KeyValue(b"same", mod_revision=4),
    )
    d, create = core.resync_done(wid, kvs, 9)
    assert isinstance(d, Deliver) and d.batch.resync and d.batch.revision == 9
    got = {(e.type, e.kv.key) for e in d.batch.events}
    assert got == {(EventType.PUT, b"a"), (EventType.PUT, b"new"), (EventType.DELETE, b"gone")}
    assert all(e.synthetic for e in d.batch.events)
    assert isinstance(create, SendCreate) and create.start_revision == 10
    assert core.stats(wid).resyncs == 1


def test_server_cancel_other_reason_resumes_but_permission_denied_fails() -> None:
    core = make_core()
    core.add(WatchSpec(b"k"))
    core.stream_opened(0.0)
    core.response(WatchResponseIn(0, hdr(5), created=True), 0.0)
    [rc] = core.response(WatchResponseIn(0, hdr(5), canceled=True, cancel_reason="etcdserver: no leader"), 0.0)
    assert isinstance(rc, Reconnect)
    [create] = core.stream_opened(1.0)
    assert isinstance(create, SendCreate) and create.start_revision == 6
    core.response(WatchResponseIn(1, hdr(5), created=True), 1.0)
    [f] = core.response(WatchResponseIn(1, hdr(5), canceled=True, cancel_reason="etcdserver: permission denied"), 1.0)
    assert isinstance(f, Fail) and type(f.error).__name__ == "PermissionDeniedError"


def test_create_refused_fails_watch() -> None:
    core = make_core()
    core.add(WatchSpec(b"k"))
    core.stream_opened(0.0)
    [f] = core.response(WatchResponseIn(-1, hdr(5), created=True, canceled=True, cancel_reason="weird"), 0.0)
    assert isinstance(f, Fail) and isinstance(f.error, WatchCanceledByServer)


def test_stall_detection_schedule() -> None:
    core = make_core()
    core.add(WatchSpec(b"k"))
    core.stream_opened(0.0)
    assert core.tick(0.5) == []
    assert core.tick(PROGRESS) == [SendProgress()]
    assert core.tick(PROGRESS + 0.1) == []  # one progress request per silence
    [rc] = core.tick(STALL)
    assert isinstance(rc, Reconnect) and rc.rotate and "stalled" in rc.reason
    assert not core.stream_open


def test_user_cancel_during_create_cancels_on_server() -> None:
    core = make_core()
    wid, _ = core.add(WatchSpec(b"k"))
    other, _ = core.add(WatchSpec(b"o"))
    core.stream_opened(0.0)
    assert core.cancel(wid) == []
    acts = core.response(WatchResponseIn(4, hdr(1), created=True), 0.0)
    assert acts[0] == SendCancel(4) and isinstance(acts[1], SendCreate) and acts[1].wid == other


def test_backoff_grows_and_is_capped() -> None:
    core = make_core()
    core.add(WatchSpec(b"k"))
    delays = []
    for i in range(8):
        core.stream_opened(float(i))
        [rc] = core.stream_failed("x", float(i))
        assert isinstance(rc, Reconnect)
        delays.append(rc.delay)
    assert delays == sorted(delays) and delays[-1] == pytest.approx(0.75) and delays[0] == pytest.approx(0.075)


def test_endpoint_picker_and_revision_floor() -> None:
    p = EndpointPicker(("a", "b", "c"))
    assert p.order() == ("a", "b", "c")
    p.failed("a", OSError("x"))
    assert p.current == "b" and p.order() == ("b", "c", "a")
    p.failed("c", OSError("y"))  # not current: no move
    assert p.current == "b"
    p.succeeded("c")
    assert p.current == "c" and "c" not in p.last_errors
    f = RevisionFloor()
    f.observe(10)
    assert f.is_stale(9) and not f.is_stale(10) and not f.is_stale(0)


def test_connection_tracker_transitions() -> None:
    t = ConnectionTracker(lost_timeout=5.0)
    assert t.state is ConnectionState.SUSPENDED
    assert t.success(0.0) is ConnectionState.CONNECTED
    assert t.failure(1.0) is ConnectionState.SUSPENDED
    assert t.failure(2.0) is None and t.tick(5.9) is None
    assert t.tick(6.0) is ConnectionState.LOST
    assert t.success(7.0) is ConnectionState.CONNECTED


def test_keepalive_schedule() -> None:
    s = KeepAliveSchedule(ttl=3, now=0.0)
    assert s.due(0.0)
    s.sent(0.0)
    assert not s.due(0.5) and s.due(1.0)
    s.answered(3, 1.0)
    assert s.expires_at == 4.0 and not s.check_expired(3.9)
    assert s.check_expired(4.0) and s.lost_reason is not None
    s2 = KeepAliveSchedule(ttl=3, now=0.0)
    s2.answered(0, 0.1)
    assert s2.check_expired(0.2) and "not found" in (s2.lost_reason or "")


def test_create_refused_for_auth_refreshes_token_once() -> None:
    core = make_core()
    core.add(WatchSpec(b"k", start_revision=4))
    core.stream_opened(0.0)
    denied = WatchResponseIn(-1, hdr(5), created=True, canceled=True, cancel_reason="etcdserver: permission denied")
    [rc] = core.response(denied, 0.0)
    assert isinstance(rc, Reconnect) and rc.refresh_auth and not rc.rotate
    [create] = core.stream_opened(1.0)
    assert isinstance(create, SendCreate) and create.start_revision == 4
    [f] = core.response(denied, 1.0)  # still refused with a fresh token: a real permission problem
    assert isinstance(f, Fail) and type(f.error).__name__ == "PermissionDeniedError"


@settings(max_examples=100, deadline=None)
@given(
    known=st.dictionaries(st.sampled_from([b"a", b"b", b"c", b"d", b"e"]), st.integers(1, 20)),
    now=st.dictionaries(st.sampled_from([b"a", b"b", b"c", b"d", b"e"]), st.integers(1, 40)),
)
def test_resync_diff_brings_the_watcher_to_the_current_state(known: dict[bytes, int], now: dict[bytes, int]) -> None:
    core = make_core()
    wid, _ = core.add(WatchSpec(b"", b"\0", start_revision=21, resync=True), known)
    core.stream_opened(0.0)
    core.response(WatchResponseIn(0, hdr(41), created=True), 0.0)
    [need] = core.response(WatchResponseIn(0, hdr(41), canceled=True, compact_revision=41), 0.0)
    assert isinstance(need, NeedResync)
    kvs = tuple(KeyValue(k, b"v%d" % r, mod_revision=r) for k, r in sorted(now.items()))
    deliver, _ = core.resync_done(wid, kvs, 41)
    assert isinstance(deliver, Deliver) and deliver.batch.resync
    state = dict(known)
    for e in deliver.batch.events:
        if e.type is EventType.PUT:
            state[e.kv.key] = e.kv.mod_revision
        else:
            del state[e.kv.key]
    assert state == now
    # Minimal: unchanged keys produce no event.
    assert len(deliver.batch.events) == sum(1 for k in set(known) | set(now) if known.get(k) != now.get(k))
