"""Read etcd snapshot files (``etcdctl snapshot save`` output or a raw backend ``db``).

Contract:

* A file whose size is 32 more than a multiple of 512 carries a trailing
  SHA-256 of everything before it (etcd's own rule for ``snapshot save``
  files); it is verified before anything else is read, and the bbolt database
  is the content before it. Other files are read as bare bbolt databases.
* ``key`` bucket entries are never loaded at once: ``key_entries`` of the
  returned data re-opens the file on each iteration and walks it page by
  page, in revision order. Everything else (leases, users, members...) is
  small and loaded eagerly.
* Damage raises a :class:`SnapshotCorruptError` subclass, including while
  iterating ``key_entries``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import crc32c
from google.protobuf.message import DecodeError

from etcdkit.api.pb import auth_pb2, internal_pb2, rpc_pb2

from ..bbolt import BoltFormatError, BoltReader, BoltTruncatedError, Bucket, NotBoltError
from .errors import (
    SnapshotCorruptError,
    SnapshotHashMismatchError,
    SnapshotNotBoltError,
    SnapshotTruncatedError,
)
from .schema import (
    AUTH_ENABLED,
    AUTH_REVISION,
    BUCKET_ALARM,
    BUCKET_AUTH,
    BUCKET_AUTH_ROLES,
    BUCKET_AUTH_USERS,
    BUCKET_CLUSTER,
    BUCKET_KEY,
    BUCKET_LEASE,
    BUCKET_MEMBERS,
    BUCKET_MEMBERS_REMOVED,
    BUCKET_META,
    CLUSTER_VERSION,
    ETCD_BUCKETS,
    META_CONSISTENT_INDEX,
    META_FINISHED_COMPACT,
    META_SCHEDULED_COMPACT,
    META_TERM,
    EtcdSnapshotData,
    MemberRecord,
    SnapshotMeta,
    decode_revision_key,
)

__all__ = [
    "HASH_SIZE",
    "KeyBucketEntries",
    "SnapshotStatus",
    "read_etcd_snapshot",
    "snapshot_has_hash",
    "snapshot_status",
    "verify_snapshot_hash",
]

HASH_SIZE = 32
_CHUNK = 1 << 20


@contextmanager
def _translated(path: Path) -> Iterator[None]:
    """Turn bbolt/protobuf decoding failures into snapshot errors naming the file."""
    try:
        yield
    except NotBoltError as e:
        raise SnapshotNotBoltError(f"{path}: not an etcd snapshot: {e}") from e
    except BoltTruncatedError as e:
        raise SnapshotTruncatedError(f"{path}: snapshot is truncated: {e}") from e
    except (BoltFormatError, DecodeError, ValueError, KeyError, TypeError) as e:
        # ValueError covers bad JSON/UTF-8/hex; KeyError/TypeError a member JSON of the wrong shape.
        raise SnapshotCorruptError(f"{path}: corrupt snapshot: {e}") from e


def snapshot_has_hash(size: int) -> bool:
    """Whether a file of ``size`` bytes carries a trailing SHA-256 (etcd: ``size % 512 == 32``)."""
    return size % 512 == HASH_SIZE


def verify_snapshot_hash(path: str | os.PathLike[str]) -> int:
    """Check the trailing SHA-256 if present; return the size of the bbolt database part.

    Raises :class:`SnapshotHashMismatchError` when the hash does not match and
    :class:`SnapshotNotBoltError` when the file is too small to be a database.
    """
    p = Path(path)
    size = p.stat().st_size
    if size < 1024:
        raise SnapshotNotBoltError(f"{p}: not an etcd snapshot: only {size} bytes")
    if not snapshot_has_hash(size):
        return size
    db_size = size - HASH_SIZE
    h = hashlib.sha256()
    with open(p, "rb") as f:
        remaining = db_size
        while remaining:
            chunk = f.read(min(_CHUNK, remaining))
            if not chunk:
                raise SnapshotTruncatedError(f"{p}: file shrank while reading")
            h.update(chunk)
            remaining -= len(chunk)
        expected = f.read(HASH_SIZE)
    if h.digest() != expected:
        raise SnapshotHashMismatchError(
            f"{p}: snapshot hash mismatch: expected sha256 {expected.hex()}, got {h.hexdigest()}"
        )
    return db_size


class KeyBucketEntries:
    """The ``key`` bucket of a snapshot file: re-iterable, streaming ``(revision key, KeyValue bytes)``."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        with _translated(self.path), BoltReader(self.path, limit=self.limit) as reader:
            bucket = reader.bucket(BUCKET_KEY)
            if bucket is None:
                return
            for key, value, flags in bucket.raw_items():
                if flags or key[8:9] != b"_" or not (len(key) == 17 or (len(key) == 18 and key[17] == 0x74)):
                    raise SnapshotCorruptError(f"{self.path}: {key!r} is not a revision key (or is a bucket)")
                yield key, value


def _flat(bucket: Bucket | None) -> list[tuple[bytes, bytes]]:
    if bucket is None:
        return []
    return [(e.key, e.value) for e in bucket.items() if not e.is_bucket]


def _u64(raw: bytes | None) -> int | None:
    if raw is None:
        return None
    if len(raw) != 8:
        raise ValueError(f"expected an 8-byte integer, got {len(raw)} bytes")
    return int.from_bytes(raw, "big")


def _compact_rev(raw: bytes | None) -> int | None:
    return None if raw is None else decode_revision_key(raw)[0]


def _read_meta(bucket: Bucket | None) -> SnapshotMeta:
    meta = SnapshotMeta()
    for key, value in _flat(bucket):
        if key == META_CONSISTENT_INDEX:
            meta.consistent_index = _u64(value) or 0
        elif key == META_TERM:
            meta.term = _u64(value)
        elif key == META_SCHEDULED_COMPACT:
            meta.scheduled_compact_revision = _compact_rev(value)
        elif key == META_FINISHED_COMPACT:
            meta.finished_compact_revision = _compact_rev(value)
        else:
            meta.extra[key] = value
    return meta


def read_etcd_snapshot(path: str | os.PathLike[str], *, verify_hash: bool = True) -> EtcdSnapshotData:
    """Read an etcd snapshot (or backend ``db``) file; ``key_entries`` streams from the file.

    With ``verify_hash`` (the default) a trailing SHA-256 is checked first;
    without it the trailer is only skipped.
    """
    p = Path(path)
    if verify_hash:
        limit = verify_snapshot_hash(p)
    else:
        size = p.stat().st_size
        limit = size - HASH_SIZE if snapshot_has_hash(size) else size
    with _translated(p), BoltReader(p, limit=limit) as reader:
        data = EtcdSnapshotData(key_entries=KeyBucketEntries(p, limit))
        data.meta = _read_meta(reader.bucket(BUCKET_META))
        data.leases = [internal_pb2.LeaseRecord.FromString(v) for _k, v in _flat(reader.bucket(BUCKET_LEASE))]
        data.members = [MemberRecord.decode(v) for _k, v in _flat(reader.bucket(BUCKET_MEMBERS))]
        data.removed_members = [int(k, 16) for k, _v in _flat(reader.bucket(BUCKET_MEMBERS_REMOVED))]
        cluster = reader.bucket(BUCKET_CLUSTER)
        version = cluster.get(CLUSTER_VERSION) if cluster is not None else None
        data.cluster_version = version.decode() if version is not None else None
        data.alarms = [rpc_pb2.AlarmMember.FromString(k) for k, _v in _flat(reader.bucket(BUCKET_ALARM))]
        auth = reader.bucket(BUCKET_AUTH)
        if auth is not None:
            enabled = auth.get(AUTH_ENABLED)
            data.auth_enabled = None if enabled is None else enabled == b"\x01"
            data.auth_revision = _u64(auth.get(AUTH_REVISION))
        data.users = [auth_pb2.User.FromString(v) for _k, v in _flat(reader.bucket(BUCKET_AUTH_USERS))]
        data.roles = [auth_pb2.Role.FromString(v) for _k, v in _flat(reader.bucket(BUCKET_AUTH_ROLES))]
        for name, bucket in reader.root.buckets():
            if name not in ETCD_BUCKETS:
                data.extra_buckets[name] = _flat(bucket)
    return data


class SnapshotStatus(NamedTuple):
    """What ``etcdctl snapshot status`` reports for a file."""

    hash: int
    revision: int
    total_keys: int
    total_size: int

    def etcdctl_json(self) -> str:
        """The line ``etcdctl snapshot status -w json`` prints."""
        return (
            f'{{"hash":{self.hash},"revision":{self.revision},'
            f'"totalKey":{self.total_keys},"totalSize":{self.total_size}}}'
        )


def snapshot_status(path: str | os.PathLike[str]) -> SnapshotStatus:
    """Hash, revision, key count and size of a snapshot, computed as etcdctl does.

    The hash is CRC-32C over, for each top-level bucket in name order, its
    name and then every key and value in it; the revision is the main
    revision of the last ``key``-bucket entry; ``total_keys`` counts the
    entries of every top-level bucket; ``total_size`` is the bbolt size
    (high-water mark x page size, the SHA-256 trailer excluded). Like
    etcdctl it runs the bbolt consistency check first and does not verify
    the trailing SHA-256.
    """
    p = Path(path)
    with _translated(p), BoltReader(p) as reader:
        problems = reader.check()
        if problems:
            raise SnapshotCorruptError(f"{p}: snapshot file integrity check failed: {'; '.join(problems[:5])}")
        crc = 0
        revision = total = 0
        for name, bucket in reader.root.buckets():
            crc = crc32c.crc32c(name, value=crc)
            is_key = name == BUCKET_KEY
            last = b""
            for key, value, flags in bucket.raw_items():
                # A nested bucket's value is nil to etcdctl: only its key is hashed.
                crc = crc32c.crc32c(key if flags & 1 else key + value, value=crc)
                last = key
                total += 1
            if is_key and last:
                revision = decode_revision_key(last)[0]
        return SnapshotStatus(crc, revision, total, reader.meta.high_water * reader.meta.page_size)
