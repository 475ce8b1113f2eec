"""etcd snapshot files: read and write etcd's backend database (bbolt) and its ``snapshot save`` form.

Public API (what the server's Maintenance.Snapshot, ``etcdkit snapshot`` and
restore call):

* :func:`read_etcd_snapshot` -> :class:`EtcdSnapshotData`, with the ``key``
  bucket streamed in revision order;
* :func:`write_etcd_snapshot` writes a file real etcd restores from (bbolt +
  trailing SHA-256), streaming the ``key`` bucket from an iterator;
* :func:`snapshot_chunks` yields the Maintenance.Snapshot messages
  ``(blob, remaining_bytes)`` for a database file, as etcd sends them;
* :func:`snapshot_status` reports what ``etcdctl snapshot status`` reports;
* damaged input raises a :class:`SnapshotError` subclass (see :mod:`.errors`).

Nothing here knows about LMDB or the server; the schema is in :mod:`.schema`.
"""

from .errors import (
    SnapshotCorruptError,
    SnapshotError,
    SnapshotHashMismatchError,
    SnapshotNotBoltError,
    SnapshotTruncatedError,
)
from .reader import (
    HASH_SIZE,
    KeyBucketEntries,
    SnapshotStatus,
    read_etcd_snapshot,
    snapshot_has_hash,
    snapshot_status,
    verify_snapshot_hash,
)
from .schema import (
    ETCD_BUCKETS,
    EtcdSnapshotData,
    MemberRecord,
    SnapshotMeta,
    decode_revision_key,
    encode_revision_key,
    iter_key_values,
)
from .stream import SNAPSHOT_CHUNK_SIZE, snapshot_chunks
from .writer import etcd_bucket_tree, write_etcd_snapshot

__all__ = [
    "ETCD_BUCKETS",
    "HASH_SIZE",
    "SNAPSHOT_CHUNK_SIZE",
    "EtcdSnapshotData",
    "KeyBucketEntries",
    "MemberRecord",
    "SnapshotCorruptError",
    "SnapshotError",
    "SnapshotHashMismatchError",
    "SnapshotMeta",
    "SnapshotNotBoltError",
    "SnapshotStatus",
    "SnapshotTruncatedError",
    "decode_revision_key",
    "encode_revision_key",
    "etcd_bucket_tree",
    "iter_key_values",
    "read_etcd_snapshot",
    "snapshot_chunks",
    "snapshot_has_hash",
    "snapshot_status",
    "verify_snapshot_hash",
    "write_etcd_snapshot",
]
