"""What the hub needs from the MVCC store: a read-only view of history."""

from __future__ import annotations

from typing import Protocol

from etcdkit.api.pb import kv_pb2

__all__ = ["EventSource"]


class EventSource(Protocol):
    """History of committed revisions (implemented by the MVCC store).

    ``read_events`` returns the events with ``start_rev <= kv.mod_revision <=
    end_rev`` on keys in the etcd range ``(key, range_end)`` (conventions of
    :mod:`etcdkit.api.keys`), ordered by (revision, sub-revision); every event
    carries ``prev_kv`` when the key had a previous live version still in
    history; DELETE events carry ``kv = KeyValue(key, mod_revision)`` only. It
    returns whole revisions: it stops before a revision that would exceed
    ``max_events`` but always returns at least one whole revision if any. It is
    valid for ``start_rev >= compact_revision()`` and raises
    ``EtcdServerError(errors.COMPACTED)`` below it.
    """

    def current_revision(self) -> int: ...

    def compact_revision(self) -> int:
        """The last compaction revision, 0 when never compacted."""
        ...

    def read_events(
        self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[kv_pb2.Event]: ...
