"""Software transactional memory over etcd (sans-IO), with clientv3's isolation levels.

Theory of operation. An STM attempt runs the user's function against a
local view: reads go to etcd once per key and are remembered (the read
set); writes stay local (the write set). Commit is one txn: *if* nothing the
isolation level cares about changed *then* apply the write set, *else*
read the read set again. On failure the fresh reads prefill the next
attempt, which re-runs the function. So the function must be side-effect
free apart from its STM reads and writes.

=======================  ================================================================
level                    guarantee (compares at commit)
=======================  ================================================================
SERIALIZABLE_SNAPSHOT    every read is at the first read's revision; no key read *or
                         written* changed since that revision (default; clientv3's too)
SERIALIZABLE             every read is at the first read's revision; no key read changed
REPEATABLE_READ          reads are at the latest revision, each key read once; no key
                         read changed since it was read
READ_COMMITTED           no compares: last writer wins, reads may mix revisions
=======================  ================================================================

A key read while absent is compared with ``mod_revision == 0`` (it must still
be absent).
"""

from __future__ import annotations

import enum

from etcdkit.client.txn import Compare, Delete, Get, Put, Txn
from etcdkit.client.types import GetResponse, KeyValue, TxnResponse
from etcdkit.recipes.errors import STMConflictError

__all__ = ["Isolation", "STMCore"]


class Isolation(enum.Enum):
    SERIALIZABLE_SNAPSHOT = "serializable-snapshot"
    SERIALIZABLE = "serializable"
    REPEATABLE_READ = "repeatable-read"
    READ_COMMITTED = "read-committed"


_SNAPSHOT_READS = (Isolation.SERIALIZABLE_SNAPSHOT, Isolation.SERIALIZABLE)


class STMCore:
    """State of one STM transaction across its attempts."""

    def __init__(self, isolation: Isolation = Isolation.SERIALIZABLE_SNAPSHOT, max_attempts: int = 20) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.isolation = isolation
        self.max_attempts = max_attempts
        self.attempts = 0
        self._prefetch: dict[bytes, KeyValue | None] = {}
        self._prefetch_rev = 0
        self.begin()

    def begin(self) -> None:
        """Start an attempt (reads prefetched by the last failed commit are kept)."""
        self.attempts += 1
        self.reads: dict[bytes, KeyValue | None] = dict(self._prefetch)
        self.writes: dict[bytes, bytes | None] = {}
        self.revision = self._prefetch_rev if self.isolation in _SNAPSHOT_READS else 0

    # --- reads -----------------------------------------------------------------------

    def written(self, key: bytes) -> tuple[bool, bytes | None]:
        """(True, value) when this attempt wrote ``key`` (value None: deleted)."""
        return (True, self.writes[key]) if key in self.writes else (False, None)

    def was_read(self, key: bytes) -> tuple[bool, KeyValue | None]:
        """(True, kv) when this attempt already read ``key`` (kv None: absent)."""
        return (True, self.reads[key]) if key in self.reads else (False, None)

    def read_op(self, key: bytes) -> Get:
        """The request that reads ``key`` for this attempt."""
        if self.revision and self.isolation in _SNAPSHOT_READS:
            return Get(key, revision=self.revision, serializable=True)
        return Get(key)

    def record(self, key: bytes, resp: GetResponse) -> KeyValue | None:
        """Remember the answer to ``read_op(key)``."""
        kv = resp.kvs[0] if resp.kvs else None
        self.reads[key] = kv
        if not self.revision and self.isolation in _SNAPSHOT_READS:
            self.revision = resp.header.revision
        return kv

    # --- writes ----------------------------------------------------------------------

    def put(self, key: bytes, value: bytes) -> None:
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = None

    # --- commit ----------------------------------------------------------------------

    def commit_txn(self) -> Txn:
        """If nothing relevant changed, apply the writes; else re-read the read set."""
        compares: list[Compare] = []
        if self.isolation is not Isolation.READ_COMMITTED:
            for key, kv in sorted(self.reads.items()):
                compares.append(Compare.mod_revision(key).eq(kv.mod_revision if kv is not None else 0))
        if self.isolation is Isolation.SERIALIZABLE_SNAPSHOT and self.revision:
            for key in sorted(self.writes):
                if key not in self.reads:
                    compares.append(Compare.mod_revision(key).lt(self.revision + 1))
        ops: list[Put | Delete] = [Put(k, v) if v is not None else Delete(k) for k, v in sorted(self.writes.items())]
        return Txn().when(*compares).then(*ops).otherwise(*(Get(k) for k in sorted(self.reads)))

    def committed(self, resp: TxnResponse) -> bool:
        """Digest the commit's answer: True when done; False to run another attempt.

        Raises ``STMConflictError`` when the attempts are used up.
        """
        if resp.succeeded:
            return True
        self._prefetch = {}
        for key, r in zip(sorted(self.reads), resp.responses, strict=True):
            assert isinstance(r, GetResponse)
            self._prefetch[key] = r.kvs[0] if r.kvs else None
        self._prefetch_rev = resp.header.revision
        if self.attempts >= self.max_attempts:
            raise STMConflictError(self.attempts)
        self.begin()
        return False
