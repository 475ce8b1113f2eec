"""The LMDB backend: one environment, named tables, sizes, defragmentation.

Tables (LMDB named databases):

* ``key``   — etcd's key bucket layout: revision key (8-byte big-endian main,
  ``_``, 8-byte big-endian sub, plus ``t`` for a tombstone) -> marshalled
  ``mvccpb.KeyValue``. Same bytes as etcd, so HashKV and snapshots carry over.
* ``kidx``  — user key -> packed revision list (see ``mvcc.revision``).
* ``meta``  — applied log index, current and compact revisions, alarms.
* ``lease`` — 8-byte big-endian lease id -> ``LeaseRecord``.

Durability: commits do not fsync (``sync=False``); the WAL is the durable
record and ``checkpoint()`` forces LMDB to disk before WAL segments are
dropped. A process crash (``kill -9``) loses nothing LMDB committed, because
its pages are in the OS page cache; requests not yet checkpointed are also in
the WAL and are re-applied on start.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import lmdb

__all__ = ["TABLES", "Backend"]

TABLES = (b"key", b"kidx", b"meta", b"lease", b"alarm", b"auth", b"authUsers", b"authRoles", b"members")
DEFAULT_MAP_SIZE = 64 << 30  # address space reserved, not disk used


class Backend:
    """Owns the LMDB environment at ``<data_dir>/member/snap/db.mdb``."""

    def __init__(self, path: Path, map_size: int = DEFAULT_MAP_SIZE) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.map_size = map_size
        self.env = self._open()
        self.tables: dict[bytes, Any] = {}
        self._open_tables()

    def _open(self) -> Any:
        return lmdb.open(
            str(self.path),
            map_size=self.map_size,
            max_dbs=len(TABLES) + 2,
            sync=False,
            metasync=False,
            readahead=False,
            max_readers=1024,
            lock=True,
        )

    def _open_tables(self) -> None:
        with self.env.begin(write=True) as txn:
            for name in TABLES:
                self.tables[name] = self.env.open_db(name, txn=txn)

    def table(self, name: bytes) -> Any:
        return self.tables[name]

    def begin(self, write: bool = False) -> Any:
        return self.env.begin(write=write, buffers=False)

    def size(self) -> int:
        """Bytes of the database file (what etcd reports as dbSize)."""
        try:
            return os.path.getsize(self.path / "data.mdb")
        except OSError:
            return 0

    def size_in_use(self) -> int:
        """Bytes of pages in use (what etcd reports as dbSizeInUse)."""
        info = self.env.info()
        stat = self.env.stat()
        return int((info["last_pgno"] + 1) * stat["psize"])

    def checkpoint(self) -> None:
        """Force everything committed so far to disk (blocking)."""
        self.env.sync(True)

    def defragment(self) -> None:
        """Rewrite the database compactly (LMDB compacting copy) and swap it in.

        Blocking; the caller guarantees no transaction is open (the server runs
        it on the loop thread between applies, as etcd blocks the member).
        """
        tmp = self.path.with_name(self.path.name + ".defrag")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self.env.copy(str(tmp), compact=True)
        self.env.close()
        os.replace(tmp / "data.mdb", self.path / "data.mdb")
        shutil.rmtree(tmp, ignore_errors=True)
        self.env = self._open()
        self.tables.clear()
        self._open_tables()

    def copy_to(self, dest: Path) -> None:
        """Consistent hot copy of the whole environment (used by snapshots)."""
        dest.mkdir(parents=True, exist_ok=True)
        self.env.copy(str(dest), compact=True)

    def close(self) -> None:
        self.env.sync(True)
        self.env.close()
