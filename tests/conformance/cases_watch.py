"""Conformance: the Watch service (create options, start revisions, cancel,
progress, compaction, fragmenting, bad input), recorded as streamed responses."""

from __future__ import annotations

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import put, rev
from .cases_watch_support import WatchSession, shape
from .harness import Conn, case

NOPUT = pb.WatchCreateRequest.NOPUT
NODELETE = pb.WatchCreateRequest.NODELETE


@case
def case_watch_single_key(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(c.k("a"))
        w.read(1, "created")
        put(c, "a", b"1")
        put(c, "b", b"x")
        put(c, "a", b"2")
        c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
        w.read(3, "put, put, delete of a")
        w.quiet("nothing for b")


@case
def case_watch_survives_the_client_half_closing(c: Conn) -> None:
    """A client that sends its creates and then half-closes (ends its request stream) keeps
    receiving events: the server ends the call only when the client cancels it or its deadline passes.
    (The blocking lock's deletion watches rely on this.)"""
    with WatchSession(c) as w:
        w.create(c.k("hc"))
        w.read(1, "created")
        w.send_end()  # half-close
        put(c, "hc", b"1")
        c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("hc")), "delete hc")
        w.read(2, "put and delete after the half-close")
        w.quiet("still open, nothing more")


@case
def case_watch_range_prefix_and_from_key(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(c.k("b"), c.k("d"))
        w.read(1, "created range [b, d)")
        w.create(c.k("p/"), prefix_end(c.k("p/")))
        w.read(1, "created prefix p/")
        w.create(c.k("x"), b"\x00")
        w.read(1, "created from-key x")
        for key in ("a", "b", "c1", "d", "p/1", "p", "x", "y"):
            put(c, key)
        w.read(6, "events: b, c1 (range), p/1 (prefix), x, y (from key)", unordered=True)
        w.quiet("nothing else")


@case
def case_watch_start_revisions_past_now_future(c: Conn) -> None:
    revs = [rev(put(c, "k", b"%d" % i)) for i in range(4)]
    with WatchSession(c) as w:
        w.create(c.k("k"), start_revision=revs[1], watch_id=1)
        w.read(2, "past: created, then history in one response stamped with the current revision")
        w.create(c.k("k"), start_revision=revs[-1], watch_id=2)
        w.read(2, "now: created, then the current revision's event")
        w.create(c.k("k"), start_revision=revs[-1] + 3, watch_id=3)
        w.create(c.k("k"), watch_id=4)
        w.read(2, "future and zero: created")
        for i in range(4):
            put(c, "k", b"n%d" % i)
        w.read(14, "live events; future watcher from its start revision", unordered=True)
        w.quiet("nothing else")


@case
def case_watch_prev_kv_and_filters(c: Conn) -> None:
    put(c, "a", b"old")
    with WatchSession(c) as w:
        w.create(c.k("a"), prev_kv=True, watch_id=1)
        w.create(c.k("a"), filters=[NOPUT], watch_id=2)
        w.create(c.k("a"), filters=[NODELETE], prev_kv=True, watch_id=3)
        w.create(c.k("a"), filters=[NOPUT, NODELETE], watch_id=4)
        w.read(4, "four created")
        put(c, "a", b"new")
        c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("a")), "delete a")
        put(c, "a", b"again")
        w.read(7, "events by filter and prev_kv", unordered=True)
        w.quiet("the fully filtered watcher gets nothing")


@case
def case_watch_txn_is_one_response_per_watcher(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(c.k("t/"), prefix_end(c.k("t/")))
        w.create(c.k("t/2"))
        w.read(2, "created")
        ops = [pb.RequestOp(request_put=pb.PutRequest(key=c.k(f"t/{i}"), value=b"v")) for i in range(4)]
        ops.append(pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=c.k("t/0"))))
        c.call(c.kv.Txn, pb.TxnRequest(success=ops[:4]), "txn of four puts")
        c.call(c.kv.Txn, pb.TxnRequest(success=[ops[4], ops[1]]), "txn delete + put")
        w.read(4, "each revision whole, per watcher", unordered=True)
        w.quiet("nothing else")


@case
def case_watch_ids_client_chosen_duplicate_and_auto(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(c.k("a"), watch_id=7)
        w.read(1, "client-chosen id 7")
        w.create(c.k("a"), watch_id=7)
        w.read(1, "duplicate id 7")
        w.create(c.k("a"))
        w.create(c.k("a"))
        w.read(2, "auto ids start at 0 per stream")
        w.create(c.k("a"), watch_id=2)
        w.create(c.k("a"))
        w.read(2, "auto id skips one in use")
    with WatchSession(c) as w2:
        w2.create(c.k("a"))
        w2.read(1, "a new stream starts again at 0")


@case
def case_watch_cancel_is_idempotent(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(c.k("a"))
        w.create(c.k("a"))
        w.read(2, "created 0 and 1")
        w.cancel(0)
        w.read(1, "cancel 0")
        w.cancel(0)
        w.quiet("second cancel: nothing")
        w.cancel(42)
        w.quiet("unknown id: nothing")
        put(c, "a")
        w.read(1, "only watcher 1 gets the event")
        w.quiet("nothing else")
        w.create(c.k("a"))
        w.read(1, "ids are not reused")


@case
def case_watch_progress_request(c: Conn) -> None:
    put(c, "a")
    with WatchSession(c) as w:
        w.progress()
        w.read(1, "progress on a stream without watchers")
        w.create(c.k("a"))
        w.read(1, "created")
        put(c, "a")
        w.read(1, "event")
        w.progress()
        w.read(1, "progress: watch_id -1, current revision")


@case(extra_args=("--experimental-watch-progress-notify-interval=300ms",))
def case_watch_progress_notify_interval(c: Conn) -> None:
    put(c, "a")
    with WatchSession(c) as w:
        w.create(c.k("a"), progress_notify=True)
        w.create(c.k("b"))
        w.read(2, "created")
        w.read(1, "periodic progress for the watcher that asked", timeout=5)


@case(fresh=True)
def case_watch_compacted_start_revision(c: Conn) -> None:
    revs = [rev(put(c, "a", b"%d" % i)) for i in range(4)]
    c.call(c.kv.Compact, pb.CompactionRequest(revision=revs[2]), "compact")
    with WatchSession(c) as w:
        w.create(c.k("a"), start_revision=revs[1], watch_id=3)
        w.read(2, "created, then canceled with compact_revision (header without revision)")
        w.create(c.k("a"), start_revision=revs[2], watch_id=4)
        w.read(2, "start at the compaction revision is allowed")
        w.cancel(3)
        w.read(1, "the compacted watch id can still be canceled")
        w.create(c.k("a"), start_revision=-3)
        w.read(2, "negative start after a compaction: canceled with compact_revision")


@case(fresh=True)
def case_watch_negative_start_revision_before_compaction(c: Conn) -> None:
    put(c, "a", b"1")
    with WatchSession(c) as w:
        w.create(c.k("a"), start_revision=-1)
        w.read(1, "-1: created (etcd 3.4.23)")
        w.create(c.k("a"), start_revision=-5)
        w.read(2, "-5: created, canceled with compact_revision -1 (etcd 3.4.23)")
        put(c, "a", b"2")
        w.read(1, "the -1 watcher sees new events only")
        w.quiet("nothing else")


@case(fresh=True)
def case_watch_empty_key_means_nul(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(b"")
        w.read(1, "created")
        c.call(c.kv.Put, pb.PutRequest(key=b"\x00", value=b"z"), "put \\0")
        put(c, "other")
        w.read(1, "event on key \\0")
        w.quiet("nothing for other keys")


@case
def case_watch_bad_input(c: Conn) -> None:
    with WatchSession(c) as w:
        w.create(c.k("b"), c.k("a"))
        w.read(1, "key > range_end: watcher range is empty")
        w.create(c.k("b"), c.k("b"))
        w.read(1, "key == range_end: watcher range is empty")
        w.send(pb.WatchRequest())
        w.quiet("empty request: ignored")
        w.create(c.k("ok"))
        w.read(1, "the stream still works")
    raw = c.channel.stream_stream(
        "/etcdserverpb.Watch/Watch",
        request_serializer=lambda b: b,
        response_deserializer=pb.WatchResponse.FromString,
    )
    with WatchSession(c) as healthy:
        healthy.create(c.k("h"))
        healthy.read(1, "another stream")
        call = raw(iter([b"\x0a\xff\xff\xff\xff\x0f"]), timeout=10)
        try:
            outcome: object = [c.normalise(r) for r in call]
        except Exception as err:  # grpc.RpcError
            outcome = c.normalise(err)
        c.record(outcome, "garbage bytes end that stream")
        put(c, "h")
        healthy.read(1, "other streams are unaffected")


@case(extra_args=("--max-request-bytes=614400",))
def case_watch_fragment_large_responses(c: Conn) -> None:
    """Fragments need a response > max-request-bytes + 512 KiB: replay of 200 x 6 KB values,
    and a txn overwriting 100 keys seen with prev_kv (each event ~12 KB)."""
    base = c.current_revision()
    for i in range(200):
        c.kv.Put(pb.PutRequest(key=c.k(f"f/{i:03d}"), value=b"x" * 6000), timeout=c.timeout)
    pfx, end = c.k("f/"), prefix_end(c.k("f/"))
    with WatchSession(c) as w:
        w.create(pfx, end, start_revision=base + 1, fragment=True, watch_id=1)
        w.create(pfx, end, start_revision=base + 1, watch_id=2)
        got = [w.next() for _ in range(2)]
        got += [w.next() for _ in range(5)]
        c.record(sorted((shape(c, g) for g in got if not isinstance(g, str)), key=repr), "replay, fragmented or not")
        ops = [pb.RequestOp(request_put=pb.PutRequest(key=c.k(f"f/{i:03d}"), value=b"y" * 5900)) for i in range(100)]
        w.create(pfx, end, fragment=True, prev_kv=True, watch_id=3)
        w.create(pfx, end, prev_kv=True, watch_id=4)
        w.read(2, "created 3 and 4")
        c.call(c.kv.Txn, pb.TxnRequest(success=ops), "txn overwriting 100 keys", timeout=c.timeout)
        live = [w.next() for _ in range(8)]
        c.record(
            sorted((shape(c, g) for g in live if not isinstance(g, str) and g.watch_id in (3, 4)), key=repr),
            "txn events: fragments for watcher 3 only",
        )
