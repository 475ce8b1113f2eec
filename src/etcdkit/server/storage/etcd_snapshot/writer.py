"""Write etcd snapshot files: a bbolt database in etcd's schema, plus its SHA-256.

Contract:

* ``data.key_entries`` is consumed once, streaming, and must be in strictly
  increasing revision-key order (``ValueError`` otherwise); memory stays
  bounded by the bbolt tree height, not the number of keys.
* The file is written next to ``out_path`` under a temporary name and renamed
  over it only once complete (fsynced), so a failure leaves ``out_path`` as it
  was; ``out_path`` being a directory is refused before anything is written.
* With ``with_hash`` the SHA-256 of the database is appended, as
  ``etcdctl snapshot save`` does; ``etcdctl snapshot restore`` requires it
  unless given ``--skip-hash-check``.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..bbolt import BoltWriter, BucketSource
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
    decode_revision_key,
    encode_revision_key,
)

__all__ = ["etcd_bucket_tree", "write_etcd_snapshot"]

_CHUNK = 1 << 20


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _checked_keys(entries: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, bytes | BucketSource]]:
    for rev_key, value in entries:
        if rev_key[8:9] != b"_" or not (len(rev_key) == 17 or (len(rev_key) == 18 and rev_key[17] == 0x74)):
            decode_revision_key(rev_key)  # raises ValueError naming the malformed key
        yield rev_key, value


def _flat(items: Iterable[tuple[bytes, bytes]]) -> BucketSource:
    """A bucket from unsorted small items (sorted here; duplicate keys are an error)."""
    ordered = sorted(items, key=lambda kv: kv[0])
    for a, b in itertools.pairwise(ordered):
        if a[0] == b[0]:
            raise ValueError(f"duplicate key {a[0]!r}")
    return BucketSource(list(ordered))


def etcd_bucket_tree(data: EtcdSnapshotData) -> BucketSource:
    """The root bucket source (top-level buckets in name order) for ``data``."""
    meta: list[tuple[bytes, bytes]] = [(META_CONSISTENT_INDEX, _u64(data.meta.consistent_index))]
    if data.meta.term is not None:
        meta.append((META_TERM, _u64(data.meta.term)))
    if data.meta.scheduled_compact_revision is not None:
        meta.append((META_SCHEDULED_COMPACT, encode_revision_key(data.meta.scheduled_compact_revision)))
    if data.meta.finished_compact_revision is not None:
        meta.append((META_FINISHED_COMPACT, encode_revision_key(data.meta.finished_compact_revision)))
    meta.extend((k, v) for k, v in data.meta.extra.items() if k not in dict(meta))
    auth: list[tuple[bytes, bytes]] = []
    if data.auth_enabled is not None:
        auth.append((AUTH_ENABLED, b"\x01" if data.auth_enabled else b"\x00"))
    if data.auth_revision is not None:
        auth.append((AUTH_REVISION, _u64(data.auth_revision)))
    cluster = [(CLUSTER_VERSION, data.cluster_version.encode())] if data.cluster_version is not None else []
    buckets: dict[bytes, BucketSource] = {
        BUCKET_KEY: BucketSource(_checked_keys(data.key_entries)),
        BUCKET_META: _flat(meta),
        BUCKET_LEASE: _flat((_u64(lease.ID & (1 << 64) - 1), lease.SerializeToString()) for lease in data.leases),
        BUCKET_MEMBERS: _flat((m.key(), m.encode()) for m in data.members),
        BUCKET_MEMBERS_REMOVED: _flat((format(i, "x").encode(), b"removed") for i in data.removed_members),
        BUCKET_CLUSTER: _flat(cluster),
        BUCKET_ALARM: _flat((a.SerializeToString(), b"") for a in data.alarms),
        BUCKET_AUTH: _flat(auth),
        BUCKET_AUTH_USERS: _flat((u.name, u.SerializeToString()) for u in data.users),
        BUCKET_AUTH_ROLES: _flat((r.name, r.SerializeToString()) for r in data.roles),
    }
    for name, items in data.extra_buckets.items():
        if name in ETCD_BUCKETS:
            raise ValueError(f"extra bucket {name!r} clashes with etcd's schema")
        buckets[name] = _flat(items)
    return BucketSource(sorted(buckets.items()))


def _append_sha256(f: os.PathLike[str] | str, size: int) -> None:
    h = hashlib.sha256()
    with open(f, "r+b") as out:
        remaining = size
        while remaining:
            chunk = out.read(min(_CHUNK, remaining))
            if not chunk:
                raise OSError("snapshot file shrank while hashing")
            h.update(chunk)
            remaining -= len(chunk)
        out.seek(size)
        out.write(h.digest())
        out.truncate(size + 32)
        out.flush()
        os.fsync(out.fileno())


def write_etcd_snapshot(
    out_path: str | os.PathLike[str],
    data: EtcdSnapshotData,
    *,
    with_hash: bool = True,
    page_size: int = 4096,
) -> int:
    """Write ``data`` as an etcd snapshot at ``out_path``; return the bbolt database size in bytes."""
    out = Path(out_path)
    if out.is_dir():
        raise IsADirectoryError(f"{out} is a directory; refusing to write a snapshot over it")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w+b") as f:
            size = BoltWriter(f, page_size=page_size).write(etcd_bucket_tree(data))
            f.truncate(size)
            f.flush()
            os.fsync(f.fileno())
        if with_hash:
            _append_sha256(tmp, size)
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size
