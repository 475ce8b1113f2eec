"""An in-memory EventSource for watch-hub tests: an append-only list of revisions.

Writes compute events the way the MVCC store does (create/mod revision,
version, prev_kv, DELETE tombstones with only key + mod_revision), append
them to history and call ``hub.notify`` synchronously. ``Reader`` drains a
stream through the real encoder and parses the bytes back, so tests see what
a client would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from etcdkit.api import errors
from etcdkit.api.keys import in_range
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.watch import ResponseEncoder, WatchHub, WatchStream

Op = tuple[str, bytes, bytes]  # ("put" | "del", key, value)


class FakeStore:
    """History as a list of (revision, events); revision 1 is the empty store."""

    def __init__(self) -> None:
        self.rev = 1
        self.compacted = 0
        self.history: list[tuple[int, list[kv_pb2.Event]]] = []
        self.live: dict[bytes, kv_pb2.KeyValue] = {}
        self.hub: WatchHub | None = None
        self.reads = 0

    # --- EventSource -------------------------------------------------------
    def current_revision(self) -> int:
        return self.rev

    def compact_revision(self) -> int:
        return self.compacted

    def read_events(
        self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[kv_pb2.Event]:
        self.reads += 1
        if start_rev < self.compacted:
            raise EtcdServerError(errors.COMPACTED)
        out: list[kv_pb2.Event] = []
        for rev, events in self.history:
            if rev < start_rev:
                continue
            if rev > end_rev:
                break
            mine = [e for e in events if in_range(e.kv.key, key, range_end)]
            if out and mine and len(out) + len(mine) > max_events:
                break
            out.extend(mine)
        return out

    # --- writes --------------------------------------------------------------
    def txn(self, ops: list[Op]) -> int:
        """Apply ``ops`` as one revision (no revision if nothing changes)."""
        rev = self.rev + 1
        events: list[kv_pb2.Event] = []
        for kind, key, value in ops:
            prev = self.live.get(key)
            if kind == "put":
                kv = kv_pb2.KeyValue(
                    key=key,
                    value=value,
                    mod_revision=rev,
                    create_revision=prev.create_revision if prev else rev,
                    version=prev.version + 1 if prev else 1,
                )
                ev = kv_pb2.Event(type=kv_pb2.Event.PUT, kv=kv)
                self.live[key] = kv
            else:
                if prev is None:
                    continue
                ev = kv_pb2.Event(type=kv_pb2.Event.DELETE, kv=kv_pb2.KeyValue(key=key, mod_revision=rev))
                del self.live[key]
            if prev is not None:
                ev.prev_kv.CopyFrom(prev)
            events.append(ev)
        if not events:
            return self.rev
        self.rev = rev
        self.history.append((rev, events))
        if self.hub is not None:
            self.hub.notify(rev, events)
        return rev

    def put(self, key: bytes, value: bytes = b"v") -> int:
        return self.txn([("put", key, value)])

    def delete(self, key: bytes) -> int:
        return self.txn([("del", key, b"")])

    def compact(self, rev: int) -> None:
        assert self.compacted < rev <= self.rev
        self.compacted = rev
        if self.hub is not None:
            self.hub.on_compact(rev)


def header(rev: int) -> rpc_pb2.ResponseHeader:
    return rpc_pb2.ResponseHeader(cluster_id=1, member_id=2, revision=rev, raft_term=3)


@dataclass
class Reader:
    """A client of one stream: drains it through the real encoder."""

    hub: WatchHub
    fragment_limit: int = 1 << 30
    stream: WatchStream = field(init=False)
    wakeups: int = 0
    got: list[rpc_pb2.WatchResponse] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stream = self.hub.open_stream(self._wake, label="reader")
        self.encoder = ResponseEncoder(header, self.fragment_limit)

    def _wake(self) -> None:
        self.wakeups += 1

    def create(self, key: bytes, range_end: bytes = b"", **kw: object) -> int | None:
        w = self.hub.create(self.stream, rpc_pb2.WatchCreateRequest(key=key, range_end=range_end, **kw))  # type: ignore[arg-type]
        return None if w is None else w.id

    def take_once(self) -> list[rpc_pb2.WatchResponse]:
        out = [
            rpc_pb2.WatchResponse.FromString(data)
            for item in self.hub.take(self.stream)
            for data in self.encoder.encode(item)
        ]
        self.got.extend(out)
        return out

    def drain(self, max_rounds: int = 10_000) -> list[rpc_pb2.WatchResponse]:
        """Take until nothing is queued and nothing is catching up."""
        start = len(self.got)
        for _ in range(max_rounds):
            if not self.take_once() and self.stream.synced:
                return self.got[start:]
        raise AssertionError("stream did not drain")

    def events_of(self, watch_id: int) -> list[kv_pb2.Event]:
        return [e for r in self.got if r.watch_id == watch_id for e in r.events]
