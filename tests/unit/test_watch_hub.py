"""Unit tests of the watch hub against an in-memory history (no server, no I/O)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from etcdkit.api import errors
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.watch import WatchConfig, WatcherState, WatchHub

from .watch_fake_store import FakeStore, Reader

NOPUT = rpc_pb2.WatchCreateRequest.NOPUT
NODELETE = rpc_pb2.WatchCreateRequest.NODELETE


def make(config: WatchConfig | None = None, registry: CollectorRegistry | None = None) -> tuple[FakeStore, WatchHub]:
    store = FakeStore()
    hub = WatchHub(store, config, registry=registry)
    store.hub = hub
    return store, hub


def revs(events: list[kv_pb2.Event]) -> list[int]:
    return [e.kv.mod_revision for e in events]


def test_created_comes_first_and_live_events_carry_their_revision() -> None:
    store, hub = make()
    r = Reader(hub)
    wid = r.create(b"a")
    store.put(b"a")
    r.take_once()  # the sender keeps up: one response per revision
    store.put(b"b")
    store.put(b"a")
    r.drain()
    got = r.got
    assert got[0].created and got[0].watch_id == wid == 0 and got[0].header.revision == 1
    assert [(x.header.revision, revs(list(x.events))) for x in got[1:]] == [(2, [2]), (4, [4])]
    assert got[1].header.cluster_id == 1  # the server's header is used


def test_past_start_replays_then_joins_live_without_gap_or_duplicate() -> None:
    store, hub = make(WatchConfig(catchup_max_events=2))
    for i in range(6):
        store.put(b"k%d" % i)  # revisions 2..7
    r = Reader(hub)
    wid = r.create(b"k", b"l", start_revision=3)
    assert hub.slow_count == 1
    store.put(b"k9")  # revision 8 arrives while the watcher is unsynced
    r.drain()
    assert hub.slow_count == 0 and hub.synced_count == 1
    store.put(b"k0")  # revision 9, live
    r.drain()
    assert wid is not None
    assert revs(r.events_of(wid)) == [3, 4, 5, 6, 7, 8, 9]
    # catch-up came in bounded batches of whole revisions, each stamped with the current revision
    catchup = [x for x in r.got if x.events and x.header.revision == 8]
    assert [len(x.events) for x in catchup] == [2, 2, 2]


def test_future_start_waits_for_its_revision() -> None:
    store, hub = make()
    r = Reader(hub)
    wid = r.create(b"a", start_revision=4)
    for _ in range(4):
        store.put(b"a")  # 2..5
    r.drain()
    assert wid is not None and revs(r.events_of(wid)) == [4, 5]


def test_start_below_compaction_is_created_then_canceled_with_compact_revision() -> None:
    store, hub = make()
    for _ in range(5):
        store.put(b"a")
    store.compact(4)
    r = Reader(hub)
    wid = r.create(b"a", start_revision=3, watch_id=5)
    got = r.drain()
    assert got[0].created and got[0].watch_id == wid == 5
    assert got[1].canceled and got[1].compact_revision == 4 and got[1].header.revision == 0
    assert hub.watcher_count == 0
    # as in etcd the id stays taken until the client cancels it; cancel then answers
    assert r.create(b"a", watch_id=wid) is None
    assert hub.cancel(r.stream, 5)
    assert r.drain()[-1].canceled and hub.watcher_count == 0
    # start exactly at the compaction revision is allowed
    wid2 = r.create(b"a", start_revision=4)
    r.drain()
    assert wid2 is not None and revs(r.events_of(wid2)) == [4, 5, 6]


@pytest.mark.parametrize(
    ("compact", "start", "expect_compact"),
    [(0, -1, None), (0, -5, -1), (3, -1, 3), (3, -7, 3)],
)
def test_negative_start_follows_etcd_3_4(compact: int, start: int, expect_compact: int | None) -> None:
    store, hub = make()
    for _ in range(3):
        store.put(b"a")
    if compact:
        store.compact(compact)
    r = Reader(hub)
    wid = r.create(b"a", start_revision=start)
    store.put(b"a")
    got = r.drain()
    assert got[0].created and got[0].watch_id == wid
    if expect_compact is None:  # -1 before any compaction: from now on
        assert [revs(list(x.events)) for x in got[1:]] == [[5]]
    else:
        assert got[1].canceled and got[1].compact_revision == expect_compact and len(got) == 2


def test_bad_creates_answer_with_watch_id_minus_one() -> None:
    _, hub = make()
    r = Reader(hub)
    assert r.create(b"b", b"a") is None
    assert r.create(b"b", b"b") is None
    assert r.create(b"x", watch_id=7) == 7
    assert r.create(b"x", watch_id=7) is None
    assert r.create(b"x") == 0 and r.create(b"x") == 1
    got = r.drain()
    fails = [x for x in got if x.canceled]
    assert [(x.watch_id, x.created, x.cancel_reason) for x in fails] == [
        (-1, True, errors.WATCH_EMPTY_RANGE.message),
        (-1, True, errors.WATCH_EMPTY_RANGE.message),
        (-1, True, errors.WATCH_DUPLICATE_ID.message),
    ]
    assert hub.watcher_count == 3


def test_auto_ids_skip_client_chosen_ones() -> None:
    _, hub = make()
    r = Reader(hub)
    assert r.create(b"x", watch_id=1) == 1
    assert [r.create(b"x") for _ in range(3)] == [0, 2, 3]


def test_empty_key_means_nul_and_from_key_covers_everything() -> None:
    store, hub = make()
    r = Reader(hub)
    single = r.create(b"")
    everything = r.create(b"", b"\x00")
    store.put(b"\x00")
    store.put(b"zz")
    r.drain()
    assert single is not None and everything is not None
    assert [e.kv.key for e in r.events_of(single)] == [b"\x00"]
    assert [e.kv.key for e in r.events_of(everything)] == [b"\x00", b"zz"]


def test_cancel_is_idempotent_and_the_gauge_never_goes_negative() -> None:
    store, hub = make()
    r = Reader(hub)
    ids = [r.create(b"a") for _ in range(3)]
    store.put(b"a")
    assert hub.watcher_count == 3
    assert hub.cancel(r.stream, 0)
    assert not hub.cancel(r.stream, 0)
    assert not hub.cancel(r.stream, 99)
    got = r.drain()
    # events queued before the cancel still precede the canceled response
    assert [(x.watch_id, x.canceled) for x in got[3:]] == [(0, False), (1, False), (2, False), (0, True)]
    hub.close_stream(r.stream)
    hub.close_stream(r.stream)
    assert not hub.cancel(r.stream, 1)
    assert hub.watcher_count == 0 and hub.slow_count == 0 and hub.pending_events == 0
    assert ids == [0, 1, 2] and hub.streams == []


def test_filters_and_prev_kv() -> None:
    store, hub = make()
    store.put(b"a", b"old")
    r = Reader(hub)
    noput = r.create(b"a", filters=[NOPUT])
    nodel = r.create(b"a", filters=[NODELETE], prev_kv=True)
    both = r.create(b"a", filters=[NOPUT, NODELETE])
    store.put(b"a", b"new")
    store.delete(b"a")
    r.drain()
    assert noput is not None and nodel is not None and both is not None
    dels = r.events_of(noput)
    assert [e.type for e in dels] == [kv_pb2.Event.DELETE] and not dels[0].HasField("prev_kv")
    puts = r.events_of(nodel)
    assert [e.type for e in puts] == [kv_pb2.Event.PUT] and puts[0].prev_kv.value == b"old"
    assert r.events_of(both) == [] and not [x for x in r.got if x.watch_id == both and not x.created]


def test_txn_events_stay_in_one_response_and_are_encoded_once() -> None:
    store, hub = make()
    r1, r2 = Reader(hub), Reader(hub)
    a = r1.create(b"k", b"l")
    b = r2.create(b"k", b"l")
    c = r2.create(b"k2")
    store.txn([("put", b"k1", b"x"), ("put", b"k2", b"y"), ("put", b"z", b"")])
    batches = [item.batch for s in (r1.stream, r2.stream) for item in s.queue if hasattr(item, "batch")]
    assert len(batches) == 3 and batches[0] is batches[1] and batches[2] is not batches[0]
    r1.drain()
    r2.drain()
    assert a is not None and b is not None and c is not None
    assert [[e.kv.key for e in x.events] for x in r1.got if x.events] == [[b"k1", b"k2"]]
    assert [e.kv.key for e in r2.events_of(c)] == [b"k2"]


def test_slow_consumer_never_blocks_writes_and_catches_up_in_order() -> None:
    store, hub = make(WatchConfig(queue_capacity=2))
    slow, fast = Reader(hub), Reader(hub)
    sw = slow.create(b"k", b"l", prev_kv=True)
    fw = fast.create(b"k", b"l")
    slow.drain()
    for i in range(50):
        store.put(b"k%d" % (i % 7), b"%d" % i)
        fast.drain()  # the fast reader keeps up and stays synced
    assert hub.slow_count == 1 and len(slow.stream.queue) == 2
    assert next(iter(slow.stream.catchup)).state == WatcherState.VICTIM
    assert sw is not None and fw is not None
    assert revs(fast.events_of(fw)) == list(range(2, 52))
    slow.drain()
    got = slow.events_of(sw)
    assert revs(got) == list(range(2, 52))
    assert all(e.HasField("prev_kv") for e in got[7:])
    assert hub.slow_count == 0 and hub.pending_events == 0
    store.put(b"k1")  # back in the live path
    slow.drain()
    assert revs(slow.events_of(sw))[-1] == 52


def test_compaction_cancels_a_victim_that_fell_behind() -> None:
    store, hub = make(WatchConfig(queue_capacity=1))
    r = Reader(hub)
    wid = r.create(b"a")
    r.drain()
    for _ in range(5):
        store.put(b"a")  # 2 is queued; the watcher becomes a victim at 3
    store.compact(5)
    got = r.drain()
    assert [revs(list(x.events)) for x in got if x.events] == [[2]]
    assert got[-1].canceled and got[-1].compact_revision == 5 and got[-1].watch_id == wid
    assert hub.slow_count == 0 and hub.watcher_count == 0


def test_progress_request_only_when_synced_and_after_queued_events() -> None:
    store, hub = make()
    store.put(b"a")
    r = Reader(hub)
    r.create(b"a")
    store.put(b"a")
    assert hub.request_progress(r.stream)
    got = r.drain()
    assert [(x.watch_id, x.header.revision, len(x.events)) for x in got[1:]] == [(0, 3, 1), (-1, 3, 0)]
    r.create(b"a", start_revision=1)  # unsynced until drained
    assert not hub.request_progress(r.stream)
    r.drain()
    assert hub.request_progress(r.stream)


def test_periodic_progress_skips_watchers_that_got_events() -> None:
    store, hub = make()
    r = Reader(hub)
    quiet = r.create(b"q", progress_notify=True)
    busy = r.create(b"b", progress_notify=True)
    r.create(b"n")  # no progress_notify
    store.put(b"b")
    assert hub.progress_tick(r.stream) == 1
    assert hub.progress_tick(r.stream) == 2
    got = [x for x in r.drain() if not x.created and not x.events]
    assert [(x.watch_id, x.header.revision) for x in got] == [(quiet, 2), (quiet, 2), (busy, 2)]


def test_fault_hooks_cancel_with_reason_and_drop_streams() -> None:
    _, hub = make()
    woken: list[int] = []
    r = Reader(hub)
    other = hub.open_stream(lambda: woken.append(1), label="other")
    r.create(b"a")
    r.create(b"b")
    assert hub.cancel_watches("injected fault", peer="reader") == 2
    got = r.drain()
    assert [(x.canceled, x.cancel_reason) for x in got[2:]] == [(True, "injected fault")] * 2
    assert hub.drop_streams(peer="other") == 1 and other.drop is errors.STOPPED and woken
    assert r.stream.drop is None


def test_metrics_use_etcd_names_on_the_given_registry() -> None:
    registry = CollectorRegistry()
    store, hub = make(WatchConfig(queue_capacity=1), registry)
    r = Reader(hub)
    r.create(b"a")
    r.create(b"a", start_revision=1)
    store.put(b"a")
    store.put(b"a")

    def value(name: str) -> float | None:
        return registry.get_sample_value(name)

    assert value("etcd_debugging_mvcc_watch_stream_total") == 1
    assert value("etcd_debugging_mvcc_watcher_total") == 2
    assert value("etcd_debugging_mvcc_slow_watcher_total") == 2
    assert value("etcd_debugging_mvcc_pending_events_total") == 1
    r.drain()
    assert value("etcd_debugging_mvcc_events_total") == 4
    assert value("etcd_debugging_mvcc_pending_events_total") == 0
    hub.close_stream(r.stream)
    assert value("etcd_debugging_mvcc_watcher_total") == 0
    assert value("etcd_debugging_mvcc_watch_stream_total") == 0


def test_wakeup_is_called_once_per_take() -> None:
    store, hub = make()
    r = Reader(hub)
    r.create(b"a")
    for _ in range(5):
        store.put(b"a")
    assert r.wakeups == 1
    r.take_once()
    store.put(b"a")
    assert r.wakeups == 2


def test_a_lagging_sender_merges_a_watchers_queued_revisions() -> None:
    store, hub = make(WatchConfig(catchup_max_events=3))
    r = Reader(hub)
    a = r.create(b"a")
    b = r.create(b"b")
    r.drain()
    for key in (b"a", b"b", b"a", b"a"):
        store.put(key)  # revisions 2..5 pile up unread
    hub.request_progress(r.stream)
    store.put(b"a")  # 6: after the progress, never merged across it
    for _ in range(3):
        store.put(b"a")  # 7, 8, 9
    got = r.drain()
    shapes = [(x.watch_id, x.header.revision, revs(list(x.events))) for x in got]
    assert shapes == [
        (a, 5, [2, 4, 5]),
        (b, 3, [3]),
        (-1, 5, []),
        (a, 8, [6, 7, 8]),  # capped at catchup_max_events
        (a, 9, [9]),
    ]
