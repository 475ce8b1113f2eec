"""Maintenance.Snapshot: stream a consistent copy of the store (see docs/snapshots.md)."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from etcdkit.api.pb import rpc_pb2
from etcdkit.server.etcdserver import EtcdServer

__all__ = ["stream_snapshot"]

CHUNK = 32 * 1024


async def stream_snapshot(server: EtcdServer) -> AsyncIterator[rpc_pb2.SnapshotResponse]:
    """Stream the backend (LMDB compacting hot copy) in 32 KiB blobs, then its SHA-256."""
    tmp = Path(tempfile.mkdtemp(prefix="etcdkit-snap-"))
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, server.backend.copy_to, tmp)
        path = tmp / "data.mdb"
        size = path.stat().st_size
        digest = hashlib.sha256()
        sent = 0
        with open(path, "rb") as f:
            while True:
                blob = await loop.run_in_executor(None, f.read, CHUNK)
                if not blob:
                    break
                digest.update(blob)
                sent += len(blob)
                yield server.fill(rpc_pb2.SnapshotResponse(remaining_bytes=size - sent + 32, blob=blob))
        yield server.fill(rpc_pb2.SnapshotResponse(remaining_bytes=0, blob=digest.digest()))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
