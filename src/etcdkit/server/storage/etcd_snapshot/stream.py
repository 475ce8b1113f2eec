"""The Maintenance.Snapshot stream shape, as etcd sends it.

etcd streams the bbolt database in 32 KiB blobs, each with
``remaining_bytes`` = database size minus the bytes sent so far (so the last
data blob carries 0), then one more message whose blob is the 32-byte
SHA-256 of the whole database, also with ``remaining_bytes`` 0. A client
(``etcdctl snapshot save``) writes the blobs one after the other, which
yields the "database + SHA-256" file that ``snapshot restore`` verifies.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["SNAPSHOT_CHUNK_SIZE", "snapshot_chunks"]

SNAPSHOT_CHUNK_SIZE = 32 * 1024


def snapshot_chunks(
    db_path: str | os.PathLike[str], *, chunk_size: int = SNAPSHOT_CHUNK_SIZE
) -> Iterator[tuple[bytes, int]]:
    """Yield ``(blob, remaining_bytes)`` for a bare bbolt file (no trailing hash), then the SHA-256 message.

    The file is read incrementally (memory: one chunk). Write the database
    with ``write_etcd_snapshot(..., with_hash=False)`` to a temporary file
    first; the file must not change while it is streamed.
    """
    path = Path(db_path)
    total = path.stat().st_size
    h = hashlib.sha256()
    sent = 0
    with open(path, "rb") as f:
        while sent < total:
            blob = f.read(min(chunk_size, total - sent))
            if not blob:
                raise OSError(f"{path} shrank while streaming ({sent} of {total} bytes)")
            sent += len(blob)
            h.update(blob)
            yield blob, total - sent
    yield h.digest(), 0
