"""Local cache of a prefix (sans-IO): list + watch state, staleness, write-back queue, snapshots.

Theory of operation (the informer pattern, plus the talk's offline writes).

* State: ``data`` maps key -> ``KeyValue`` as of ``revision``. A list
  (``load_list``) replaces it and yields *synthetic* events for the
  difference (so listeners see the same state changes whether a watch
  delivered them or a relist found them); watch events (``apply``) update it.
  Events at or below ``revision`` are ignored, so replays are harmless.
* Staleness: ``in_sync`` is true while the shell is connected and watching
  from ``revision``; when it is not, ``staleness(now)`` grows from the moment
  sync was lost. Reads never block on the cluster: they serve the last
  known state, and callers decide what staleness they tolerate.
* Write-back: ``write(key, value)`` (value None = delete) is queued with the
  key's *base* mod revision, the one the writer saw; local reads see it at
  once. Each queued write is pushed as ``if mod_revision(key) == base then
  write else get(key)``, so a remote change made meanwhile is never
  overwritten: it comes back as a ``Conflict`` (a key deleted remotely
  included) carrying both sides, and the local view reverts to the remote
  state. Writing a key again before its push keeps the first base.
* Snapshots: ``snapshot()``/``restore()`` turn the state, revision and queue
  into plain JSON-able data for the shell to persist.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from etcdkit.client.txn import Compare, Delete, Get, Put, Txn
from etcdkit.client.types import Event, EventType, GetResponse, KeyValue, TxnResponse

__all__ = ["CacheCore", "Conflict", "PendingWrite"]


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A local write waiting to be pushed. ``value`` None means delete."""

    key: bytes
    value: bytes | None
    base: int  # the key's mod revision the write was made against (0: absent)
    seq: int


@dataclass(frozen=True, slots=True)
class Conflict:
    """A queued write refused because the key changed remotely since ``write.base``."""

    write: PendingWrite
    remote: KeyValue | None  # the key now (None: deleted remotely)

    @property
    def key(self) -> bytes:
        return self.write.key


class CacheCore:
    """The cache's state; owned by one task, read from anywhere."""

    def __init__(self, now: float) -> None:
        self.data: dict[bytes, KeyValue] = {}
        self.revision = 0
        self.in_sync = False
        self.stale_since = now
        self.pending: dict[bytes, PendingWrite] = {}
        self._seq = 0

    # --- reads -----------------------------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        """The local view: a queued write wins over the last known remote value."""
        pw = self.pending.get(key)
        if pw is not None:
            return pw.value
        kv = self.data.get(key)
        return kv.value if kv is not None else None

    def items(self) -> list[tuple[bytes, bytes]]:
        """Every (key, value) of the local view, sorted by key."""
        view = {k: kv.value for k, kv in list(self.data.items())}
        for k, pw in list(self.pending.items()):
            if pw.value is None:
                view.pop(k, None)
            else:
                view[k] = pw.value
        return sorted(view.items())

    def staleness(self, now: float) -> float:
        """0 while in sync; else seconds since sync was lost."""
        return 0.0 if self.in_sync else max(0.0, now - self.stale_since)

    # --- remote state ----------------------------------------------------------------------

    def load_list(self, resp: GetResponse, now: float) -> list[Event]:
        """Replace the state by a full read; return synthetic events for the difference."""
        fresh = {kv.key: kv for kv in resp.kvs}
        events: list[Event] = []
        for key, old in sorted(self.data.items()):
            if key not in fresh:
                gone = KeyValue(key, b"", 0, resp.header.revision, 0, 0)
                events.append(Event(EventType.DELETE, gone, old, synthetic=True))
        for key, kv in sorted(fresh.items()):
            old_kv = self.data.get(key)
            if old_kv is None or old_kv.mod_revision != kv.mod_revision:
                events.append(Event(EventType.PUT, kv, old_kv, synthetic=True))
        self.data = fresh
        self.revision = resp.header.revision
        self.synced(now)
        return events

    def apply(self, events: Iterable[Event]) -> list[Event]:
        """Apply watch events; return those that changed the state (newer than ``revision``)."""
        applied: list[Event] = []
        for e in events:
            if e.kv.mod_revision <= self.revision:
                continue
            self.revision = e.kv.mod_revision
            cur = self.data.get(e.kv.key)
            if cur is not None and cur.mod_revision > e.kv.mod_revision:
                continue  # our own push already put a newer value here
            if e.type is EventType.PUT:
                self.data[e.kv.key] = e.kv
            else:
                self.data.pop(e.kv.key, None)
            applied.append(e)
        return applied

    def synced(self, now: float) -> None:
        """The shell is watching from ``revision`` again."""
        self.in_sync = True

    def unsynced(self, now: float) -> None:
        """The shell lost the cluster (or has not reached it yet)."""
        if self.in_sync:
            self.in_sync = False
            self.stale_since = now

    # --- write-back --------------------------------------------------------------------------

    def write(self, key: bytes, value: bytes | None) -> PendingWrite:
        """Queue a local write (None: delete) against the state this cache shows."""
        prev = self.pending.get(key)
        if prev is not None:
            base = prev.base
        else:
            kv = self.data.get(key)
            base = kv.mod_revision if kv is not None else 0
        self._seq += 1
        pw = PendingWrite(key, value, base, self._seq)
        self.pending.pop(key, None)  # re-insert: pushes go in write order
        self.pending[key] = pw
        return pw

    def next_push(self) -> PendingWrite | None:
        """The oldest queued write."""
        return next(iter(self.pending.values()), None)

    @staticmethod
    def push_txn(pw: PendingWrite) -> Txn:
        op: Put | Delete = Put(pw.key, pw.value) if pw.value is not None else Delete(pw.key)
        return Txn().when(Compare.mod_revision(pw.key).eq(pw.base)).then(op).otherwise(Get(pw.key))

    def pushed(self, pw: PendingWrite, resp: TxnResponse) -> Conflict | None:
        """Digest a push's answer; return the conflict when it was refused."""
        newer = self.pending.get(pw.key)
        if resp.succeeded:
            rev = resp.header.revision
            if pw.value is None:
                self.data.pop(pw.key, None)
            else:
                old = self.data.get(pw.key)
                created = old.create_revision if old is not None and pw.base else rev
                version = old.version + 1 if old is not None and pw.base else 1
                self.data[pw.key] = KeyValue(pw.key, pw.value, created, rev, version, 0)
            if newer is not None and newer.seq == pw.seq:
                del self.pending[pw.key]
            elif newer is not None:  # written again meanwhile: now based on our own write
                self.pending[pw.key] = PendingWrite(
                    newer.key, newer.value, rev if pw.value is not None else 0, newer.seq
                )
            return None
        got = resp.responses[0]
        assert isinstance(got, GetResponse)
        remote = got.kvs[0] if got.kvs else None
        if remote is None:
            self.data.pop(pw.key, None)
        elif remote.mod_revision > self.revision or pw.key not in self.data:
            self.data[pw.key] = remote
        if newer is not None and newer.seq == pw.seq:
            del self.pending[pw.key]
        if pw.value is None and remote is None:
            return None  # deleted on both sides: same outcome, nothing lost
        return Conflict(pw, remote)

    # --- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """Plain data (JSON-able) describing the state, its revision and the write queue."""
        return {
            "version": 1,
            "revision": self.revision,
            "kvs": [
                [_b64(kv.key), _b64(kv.value), kv.create_revision, kv.mod_revision, kv.version, kv.lease]
                for kv in self.data.values()
            ],
            "pending": [
                [_b64(pw.key), None if pw.value is None else _b64(pw.value), pw.base, pw.seq]
                for pw in self.pending.values()
            ],
        }

    def restore(self, snap: dict[str, Any], now: float) -> None:
        """Load a ``snapshot()``; the result is stale until the shell syncs."""
        if snap.get("version") != 1:
            raise ValueError(f"unknown cache snapshot version {snap.get('version')!r}")
        self.data = {}
        for k, v, c, m, ver, lease in snap["kvs"]:
            key = _unb64(k)
            self.data[key] = KeyValue(key, _unb64(v), int(c), int(m), int(ver), int(lease))
        self.revision = int(snap["revision"])
        self.pending = {}
        for k, v, base, seq in snap["pending"]:
            key = _unb64(k)
            self.pending[key] = PendingWrite(key, None if v is None else _unb64(v), int(base), int(seq))
        self._seq = max((pw.seq for pw in self.pending.values()), default=0)
        self.in_sync = False
        self.stale_since = now


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def _unb64(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"))
