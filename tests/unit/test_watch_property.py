"""Property test: random writes, compactions, watchers and slow readers; every
watcher's transcript must keep etcd's watch guarantees against the history.

Checked per watcher: ``created`` first; ordered; unique; atomic (a revision is
never split across responses); reliable + resumable (exactly the matching
history from its start revision, or a prefix of it when canceled, and a
compaction cancel only when its next revision was compacted); filters and
prev_kv; bookmarkable (a stream-wide progress at revision P comes after every
event <= P of the watchers that existed, and before any event <= P).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcdkit.api.keys import in_range
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.watch import WatchConfig, WatchHub

from .watch_fake_store import FakeStore, Reader

KEYS = [b"a", b"b", b"ba", b"c", b"d"]
RANGES = [(b"a", b""), (b"b", b"c"), (b"b", b"\x00"), (b"\x00", b"\x00"), (b"c", b""), (b"a", b"bz")]
NOPUT = rpc_pb2.WatchCreateRequest.NOPUT
NODELETE = rpc_pb2.WatchCreateRequest.NODELETE

write_op = st.tuples(st.sampled_from(["put", "del"]), st.sampled_from(KEYS), st.binary(max_size=3))
write = st.tuples(st.just("write"), st.lists(write_op, min_size=1, max_size=4, unique_by=lambda o: o[1]))
watch = st.tuples(
    st.just("watch"),
    st.integers(0, 2),  # reader
    st.sampled_from(RANGES),
    st.sampled_from(["past", "now", "future", "zero"]),
    st.integers(0, 6),  # offset
    st.booleans(),  # prev_kv
    st.sampled_from([(), (NOPUT,), (NODELETE,)]),
)
# Writes dominate so that queues overflow (victims) between takes.
action = st.one_of(
    write,
    write,
    write,
    write,
    watch,
    st.tuples(st.just("take"), st.integers(0, 2)),
    st.tuples(st.just("compact"), st.floats(0, 1)),
    st.tuples(st.just("cancel"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("progress"), st.integers(0, 2)),
)
script = st.tuples(
    st.lists(write, max_size=8), st.lists(watch, min_size=1, max_size=6), st.lists(action, min_size=5, max_size=80)
).map(lambda t: t[0] + t[1] + t[2])


@dataclass
class Spec:
    key: bytes
    end: bytes
    start: int  # effective first revision
    prev_kv: bool
    filters: tuple[int, ...]
    reader: int
    created_at: int = 0  # index of the created response in the reader's transcript
    canceled_by_client: bool = False


@dataclass
class World:
    store: FakeStore
    hub: WatchHub
    readers: list[Reader]
    specs: dict[tuple[int, int], Spec] = field(default_factory=dict)


def expected(store: FakeStore, s: Spec) -> list[kv_pb2.Event]:
    out = []
    for rev, events in store.history:
        if rev < s.start:
            continue
        for e in events:
            if not in_range(e.kv.key, s.key, s.end):
                continue
            if (e.type == kv_pb2.Event.PUT and NOPUT in s.filters) or (
                e.type == kv_pb2.Event.DELETE and NODELETE in s.filters
            ):
                continue
            ev = kv_pb2.Event()
            ev.CopyFrom(e)
            if not s.prev_kv:
                ev.ClearField("prev_kv")
            out.append(ev)
    return out


def run(world: World, actions: list[tuple[Any, ...]]) -> None:
    store, hub = world.store, world.hub
    for act in actions:
        kind = act[0]
        if kind == "write":
            store.txn(list(act[1]))
        elif kind == "compact":
            lo, hi = store.compacted + 1, store.rev
            if lo <= hi:
                store.compact(lo + int((hi - lo) * float(act[1])))
        elif kind == "watch":
            _, ri, (key, end), when, off, prev_kv, filters = act
            r = world.readers[ri]
            cur = store.rev
            start = {"past": max(1, cur - off), "now": cur, "future": cur + 1 + off, "zero": 0}[when]
            wid = r.create(key, end, start_revision=start, prev_kv=prev_kv, filters=list(filters))
            assert wid is not None
            world.specs[(ri, wid)] = Spec(key, end, start or cur + 1, prev_kv, filters, ri)
        elif kind == "take":
            world.readers[act[1]].take_once()
        elif kind == "cancel":
            ri = act[1]
            mine = sorted(wid for (r, wid) in world.specs if r == ri)
            if mine:
                wid = mine[int(act[2]) % len(mine)]
                if hub.cancel(world.readers[ri].stream, wid):
                    world.specs[(ri, wid)].canceled_by_client = True
        elif kind == "progress":
            hub.request_progress(world.readers[act[1]].stream)
    for r in world.readers:
        r.drain()


def check(world: World) -> None:
    store = world.store
    for (ri, wid), spec in world.specs.items():
        got = world.readers[ri].got
        mine = [(i, x) for i, x in enumerate(got) if x.watch_id == wid]
        assert mine and mine[0][1].created, "created must come first"
        spec.created_at = mine[0][0]
        responses = [x for _, x in mine[1:] if x.events]
        events = [e for x in responses for e in x.events]
        want = expected(store, spec)
        cancels = [x for _, x in mine[1:] if x.canceled]
        assert len(cancels) <= 1 + int(spec.canceled_by_client)
        if cancels:
            assert events == want[: len(events)], "a canceled watch must have received a prefix"
            compact = [c.compact_revision for c in cancels if c.compact_revision]
            if compact:
                nxt = events[-1].kv.mod_revision + 1 if events else spec.start
                assert nxt < compact[0], "compaction cancel without need"
                assert cancels[0].header.revision == 0
            else:
                assert spec.canceled_by_client
        else:
            assert events == want, "reliable/resumable: exactly the matching history"
        seen_revs: list[int] = []
        for x in responses:
            rs = [e.kv.mod_revision for e in x.events]
            assert rs == sorted(rs), "ordered"
            assert not seen_revs or rs[0] > seen_revs[-1], "atomic: a revision split or repeated"
            seen_revs.extend(rs)
        pairs = [(e.kv.mod_revision, e.kv.key) for e in events]
        assert len(pairs) == len(set(pairs)), "unique"
    for ri, r in enumerate(world.readers):
        check_bookmarks(world, ri, r.got)


def check_bookmarks(world: World, ri: int, got: list[rpc_pb2.WatchResponse]) -> None:
    for pos, x in enumerate(got):
        if x.watch_id != -1 or x.created or x.canceled or x.events:
            continue
        p = x.header.revision
        for (r, wid), spec in world.specs.items():
            if r != ri or spec.created_at > pos:
                continue
            before = [e for y in got[:pos] if y.watch_id == wid for e in y.events]
            after = [e for y in got[pos + 1 :] if y.watch_id == wid for e in y.events]
            assert all(e.kv.mod_revision > p for e in after), "event at or below a bookmark after it"
            ended = any(y.watch_id == wid and y.canceled for y in got[:pos])
            if not ended:
                want = [e for e in expected(world.store, spec) if e.kv.mod_revision <= p]
                assert before == want, "bookmark before all its events were delivered"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    script,
    st.integers(1, 3),  # queue capacity: small, so victims happen
    st.integers(1, 4),  # catch-up batch
)
def test_watch_guarantees_hold(actions: list[tuple[Any, ...]], capacity: int, batch: int) -> None:
    store = FakeStore()
    hub = WatchHub(store, WatchConfig(queue_capacity=capacity, catchup_max_events=batch, catchup_max_watchers=2))
    store.hub = hub
    readers = [Reader(hub) for _ in range(3)]
    world = World(store, hub, readers)
    run(world, actions)
    check(world)
    assert hub.pending_events == 0 and hub.slow_count == 0
    assert hub.watcher_count == sum(
        1 for (ri, wid), s in world.specs.items() if not s.canceled_by_client and not _compacted(readers[ri], wid)
    )


def _compacted(r: Reader, wid: int) -> bool:
    return any(x.watch_id == wid and x.compact_revision for x in r.got)


def _random_script(rng: random.Random, n: int) -> list[tuple[Any, ...]]:
    """A long script (hypothesis keeps examples small; this one overflows queues a lot)."""
    out: list[tuple[Any, ...]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.55:
            ops = [
                (rng.choice(["put", "put", "del"]), k, b"%d" % rng.randrange(100))
                for k in rng.sample(KEYS, rng.randint(1, 3))
            ]
            out.append(("write", ops))
        elif roll < 0.65:
            out.append(
                (
                    "watch",
                    rng.randrange(3),
                    rng.choice(RANGES),
                    rng.choice(["past", "now", "future", "zero"]),
                    rng.randrange(12),
                    rng.random() < 0.5,
                    rng.choice([(), (NOPUT,), (NODELETE,)]),
                )
            )
        elif roll < 0.85:
            out.append(("take", rng.randrange(3)))
        elif roll < 0.9:
            out.append(("compact", rng.random() ** 3))
        elif roll < 0.95:
            out.append(("cancel", rng.randrange(3), rng.randrange(50)))
        else:
            out.append(("progress", rng.randrange(3)))
    return out


@pytest.mark.parametrize("seed", range(16))
def test_watch_guarantees_hold_on_long_random_runs(seed: int) -> None:
    rng = random.Random(seed)
    store = FakeStore()
    hub = WatchHub(
        store,
        WatchConfig(
            queue_capacity=rng.randint(1, 4),
            catchup_max_events=rng.randint(1, 5),
            catchup_max_watchers=rng.randint(1, 3),
            take_max_items=rng.randint(1, 4),
        ),
    )
    store.hub = hub
    readers = [Reader(hub) for _ in range(3)]
    world = World(store, hub, readers)
    run(world, _random_script(rng, 400))
    check(world)
    assert hub.pending_events == 0 and hub.slow_count == 0
