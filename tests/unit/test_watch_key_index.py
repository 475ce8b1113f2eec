"""KeyIndex against a brute-force model, and fragmenting of encoded responses."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from etcdkit.api.keys import in_range
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.watch import EncodedEvent, EventBatch, KeyIndex
from etcdkit.server.watch.codec import events_responses, header_field, varint

small_keys = st.sampled_from([b"\x00", b"a", b"a\x00", b"ab", b"abc", b"b", b"ba", b"c", b"\xff", b"\xff\xff"])
ranges = st.tuples(small_keys, st.sampled_from([b"", b"\x00", b"a", b"ab", b"b", b"c", b"\xff", b"\xff\xff"])).filter(
    lambda r: not r[1] or r[1] == b"\x00" or r[0] < r[1]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ranges, st.booleans()), max_size=40), st.lists(small_keys, min_size=1, max_size=10))
def test_match_equals_brute_force(ops: list[tuple[tuple[bytes, bytes], bool]], probes: list[bytes]) -> None:
    index: KeyIndex[int] = KeyIndex()
    model: dict[int, tuple[bytes, bytes]] = {}
    for n, ((key, end), remove) in enumerate(ops):
        if remove and model:
            victim = sorted(model)[n % len(model)]
            assert index.remove(victim, *model.pop(victim))
            assert not index.remove(victim, key + b"?", end)
        index.add(n, key, end)
        model[n] = (key, end)
        for probe in probes:  # interleave queries with changes (lazy rebuilds)
            got = sorted(index.match(probe))
            assert got == sorted(i for i, (k, e) in model.items() if in_range(probe, k, e))
    assert len(index) == len(model)


def test_shared_range_is_one_interval() -> None:
    index: KeyIndex[int] = KeyIndex()
    for i in range(1000):
        index.add(i, b"p/", b"p0")
    index.add(-1, b"q", b"r")
    assert len(list(index.match(b"p/x"))) == 1000
    assert list(index.match(b"q1")) == [-1]
    assert len(index._bounded) == 2


def test_varint_matches_protobuf() -> None:
    for n in (0, 1, 127, 128, 300, 2**40, -1, -(2**63)):
        assert rpc_pb2.WatchResponse.FromString(b"\x10" + varint(n)).watch_id == n


def _batch(n: int, size: int) -> EventBatch:
    return EventBatch(
        [
            EncodedEvent(kv_pb2.Event(kv=kv_pb2.KeyValue(key=b"k%d" % i, value=b"x" * size, mod_revision=2)))
            for i in range(n)
        ]
    )


def test_fragments_split_large_responses_only() -> None:
    hdr = header_field(rpc_pb2.ResponseHeader(revision=2))
    batch = _batch(10, 100)
    assert len(events_responses(hdr, 3, batch, False, None)) == 1
    assert len(events_responses(hdr, 3, batch, False, 10_000)) == 1
    parts = [rpc_pb2.WatchResponse.FromString(b) for b in events_responses(hdr, 3, batch, False, 400)]
    assert [len(p.events) for p in parts] == [3, 3, 3, 1]
    assert [p.fragment for p in parts] == [True, True, True, False]
    assert all(p.watch_id == 3 and p.header.revision == 2 for p in parts)
    assert [e.kv.key for p in parts for e in p.events] == [b"k%d" % i for i in range(10)]
    # one event is never fragmented, however large
    assert len(events_responses(hdr, 3, _batch(1, 1000), False, 10)) == 1
    # a fragment holds at least one event even if that alone reaches the limit
    assert len(events_responses(hdr, 3, _batch(3, 1000), False, 10)) == 3
