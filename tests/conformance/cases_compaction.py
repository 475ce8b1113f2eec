"""Conformance: Compact (revision bounds, reads at/below the compact revision, physical).

Most cases compact the *shared* server. That is safe: compaction only drops
history, and every case reads only revisions from its own start onwards, so
a compaction at a case's current revision cannot reach anything a later case
reads. Cases whose outcome depends on the store's compaction history (e.g.
compacting revision 0 or 1) use a fresh server.
"""

from __future__ import annotations

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import prefix, put, rev
from .harness import Conn, case


def _compact(c: Conn, label: str, revision: int, physical: bool = False) -> None:
    c.call(c.kv.Compact, pb.CompactionRequest(revision=revision, physical=physical), label)


def _at(c: Conn, label: str, revision: int) -> None:
    key, end = prefix(c, "")
    c.call(c.kv.Range, pb.RangeRequest(key=key, range_end=end, revision=revision), label)


@case
def case_compact_to_current_revision(c: Conn) -> None:
    put(c, "a", b"1")
    now = rev(put(c, "a", b"2"))
    _compact(c, "compact at current", now)
    _at(c, "read at the compact revision (allowed)", now)
    _at(c, "read below it", now - 1)
    _at(c, "read at 0 (current)", 0)
    put(c, "a", b"3", "writes continue")
    _at(c, "read at the compact revision after a write", now)


@case
def case_compact_future_revision(c: Conn) -> None:
    now = rev(put(c, "a", b"1"))
    _compact(c, "compact at current+1", now + 1)
    _compact(c, "compact far in the future", now + 1000)
    _at(c, "history still readable", now)


@case
def case_compact_not_above_previous_compaction(c: Conn) -> None:
    r1 = rev(put(c, "a", b"1"))
    r2 = rev(put(c, "a", b"2"))
    put(c, "a", b"3")
    _compact(c, "compact at r2", r2)
    _compact(c, "compact at r2 again", r2)
    _compact(c, "compact at r1 (older)", r1)
    _compact(c, "compact at r2+1 (newer) works", r2 + 1)


@case
def case_compact_read_history_between(c: Conn) -> None:
    r1 = rev(put(c, "a", b"1"))
    rev(put(c, "b", b"1"))
    r3 = rev(put(c, "a", b"2"))
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("b")), "delete b")
    r5 = rev(put(c, "c", b"1"))
    _compact(c, "compact at r3", r3)
    _at(c, "at r1 (compacted)", r1)
    _at(c, "at r3: a=2, b=1", r3)
    _at(c, "at r4: b deleted", r3 + 1)
    _at(c, "at r5", r5)
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a"), revision=r3, count_only=True), "count_only at r3")
    c.call(c.kv.Range, pb.RangeRequest(key=c.k("a"), revision=r1, count_only=True), "count_only at r1")


@case
def case_compact_physical(c: Conn) -> None:
    put(c, "a", b"1")
    now = rev(put(c, "a", b"2"))
    _compact(c, "physical compaction", now, physical=True)
    _at(c, "read at the compact revision", now)
    _at(c, "read below it", now - 1)
    _compact(c, "physical compaction at the same revision", now, physical=True)


@case
def case_compact_keeps_current_values(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "a", b"2")
    put(c, "b", b"1")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("b")), "delete b")
    now = rev(put(c, "c", b"1"))
    _compact(c, "compact at current", now, physical=True)
    _at(c, "current values keep create/mod revisions and versions", 0)
    put(c, "a", b"3", "a's version continues")
    put(c, "b", b"2", "b is recreated at version 1", prev_kv=True)
    _at(c, "after writes", 0)


@case(fresh=True)
def case_compact_fresh_store_edges(c: Conn) -> None:
    _compact(c, "compact -1 on a fresh store", -1)
    _compact(c, "compact 0 on a fresh store", 0)
    _compact(c, "compact 0 again", 0)
    _compact(c, "compact 1 (the current revision)", 1)
    _compact(c, "compact 1 again", 1)
    put(c, "a", b"1")
    _compact(c, "compact 2", 2)
    c.call(c.kv.Range, pb.RangeRequest(key=b"\x00", range_end=b"\x00", revision=1), "read at 1")
    c.call(c.kv.Range, pb.RangeRequest(key=b"\x00", range_end=b"\x00", revision=2), "read at 2")
