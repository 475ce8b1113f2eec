"""Snapshots in etcd's own format, both ways.

* ``stream_snapshot(server)`` — the Maintenance.Snapshot RPC: a consistent
  copy of the store at one revision written as etcd's bbolt database (the
  ``key`` table already holds etcd's key-bucket bytes), streamed in 32 KiB
  blobs with ``remaining_bytes`` as etcd counts it, then the SHA-256 of the
  file as the last blob. The copy is taken from one LMDB read transaction in
  a worker thread, so writes go on meanwhile.
* ``restore_snapshot(path, data_dir, ...)`` — turn a snapshot written by
  etcd or by etcdkit into a new etcdkit data dir (refuses to touch an
  existing one; verifies the trailing hash unless told not to).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import struct
import tempfile
from array import array
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from etcdkit.api.pb import auth_pb2, internal_pb2, rpc_pb2
from etcdkit.server.mvcc.revision import decode_index, encode_index, pack, parse_rev_key
from etcdkit.server.mvcc.store import META_APPLIED_INDEX, META_COMPACT_REV, META_CURRENT_REV, META_TERM
from etcdkit.server.storage.backend import Backend
from etcdkit.server.storage.etcd_snapshot import (
    EtcdSnapshotData,
    MemberRecord,
    SnapshotMeta,
    read_etcd_snapshot,
    write_etcd_snapshot,
)

__all__ = ["SNAPSHOT_CLUSTER_VERSION", "restore_snapshot", "stream_snapshot", "write_server_snapshot"]

CHUNK = 32 * 1024
# The cluster version recorded in snapshots: 3.4.0 so that etcd 3.4 and later restore them.
SNAPSHOT_CLUSTER_VERSION = "3.4.0"
_U64 = struct.Struct(">Q")
_MASK64 = (1 << 64) - 1  # lease ids are int64; table keys their unsigned form, as the server does


def _snapshot_data(server: Any, txn: Any) -> EtcdSnapshotData:
    backend: Backend = server.backend
    store = server.store
    compact = store.compact_revision()

    def key_entries() -> Iterator[tuple[bytes, bytes]]:
        yield from txn.cursor(db=backend.table(b"key")).iternext(keys=True, values=True)

    leases = [internal_pb2.LeaseRecord.FromString(v) for _, v in txn.cursor(db=backend.table(b"lease"))]
    alarms = []
    for raw, _ in txn.cursor(db=backend.table(b"alarm")):
        mid, alarm = struct.unpack(">QI", raw)
        alarms.append(rpc_pb2.AlarmMember(memberID=mid, alarm=alarm))
    cfg = server.config
    return EtcdSnapshotData(
        key_entries=key_entries(),
        meta=SnapshotMeta(
            consistent_index=store.applied_index,
            term=None,  # etcd 3.4 keeps no term in meta (and counts keys: stay identical)
            scheduled_compact_revision=compact if compact >= 0 else None,
            finished_compact_revision=compact if compact >= 0 else None,
        ),
        leases=leases,
        members=[
            MemberRecord(
                id=server.member_id,
                name=cfg.name,
                peer_urls=tuple(cfg.peer_urls()),
                client_urls=tuple(cfg.advertise_client_urls),
            )
        ],
        cluster_version=SNAPSHOT_CLUSTER_VERSION,
        alarms=alarms,
        # etcd writes authEnabled/authRevision only once auth was ever toggled.
        auth_enabled=server.auth.enabled if server.auth.ever_toggled(txn) else None,
        auth_revision=server.auth.revision,
        users=[auth_pb2.User.FromString(v) for _, v in txn.cursor(db=backend.table(b"authUsers"))],
        roles=[auth_pb2.Role.FromString(v) for _, v in txn.cursor(db=backend.table(b"authRoles"))],
    )


def write_server_snapshot(server: Any, out_path: Path, *, with_hash: bool = False) -> int:
    """Write the server's state as an etcd bbolt file (blocking; run in a worker thread).

    One LMDB read transaction spans the whole copy, so the file is the state at
    one revision while writes continue. Returns the bbolt file size.
    """
    with server.backend.begin() as txn:
        return write_etcd_snapshot(out_path, _snapshot_data(server, txn), with_hash=with_hash)


async def stream_snapshot(server: Any) -> AsyncIterator[rpc_pb2.SnapshotResponse]:
    """Maintenance.Snapshot: bbolt blobs with etcd's ``remaining_bytes``, then the SHA-256."""
    tmpdir = Path(tempfile.mkdtemp(prefix="etcdkit-snap-"))
    loop = asyncio.get_running_loop()
    try:
        path = tmpdir / "snapshot.db"
        total = await loop.run_in_executor(None, write_server_snapshot, server, path)
        digest = hashlib.sha256()
        sent = 0
        with open(path, "rb") as f:
            while sent < total:
                blob = await loop.run_in_executor(None, f.read, min(CHUNK, total - sent))
                if not blob:
                    break
                digest.update(blob)
                sent += len(blob)
                yield rpc_pb2.SnapshotResponse(remaining_bytes=total - sent, blob=blob)
        yield rpc_pb2.SnapshotResponse(remaining_bytes=0, blob=digest.digest())
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


class RestoreError(Exception):
    """The target data dir exists, or the snapshot is unusable."""


def restore_snapshot(snapshot: str | os.PathLike[str], data_dir: str | os.PathLike[str], *,
                     skip_hash_check: bool = False, batch: int = 10_000) -> int:
    """Create a new etcdkit data dir at ``data_dir`` from an etcd-format snapshot.

    Keys, revisions, tombstones, compaction point, leases, users, roles and the
    auth flag are carried over;
    the key index is rebuilt while streaming the ``key`` bucket (memory stays
    bounded by ``batch``). Membership comes from the new member's own flags.
    Returns the store's revision. Nothing is written unless the whole restore
    succeeds (it is built in a temporary dir beside the target, then renamed).
    """
    target = Path(data_dir)
    if target.exists():
        raise RestoreError(f"data-dir {str(target)!r} exists")
    data = read_etcd_snapshot(snapshot, verify_hash=not skip_hash_check)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        backend = Backend(tmp / "member" / "snap" / "db")
        key_t, kidx_t, meta_t = backend.table(b"key"), backend.table(b"kidx"), backend.table(b"meta")
        last_main = 0
        pending: list[tuple[bytes, bytes]] = []

        def flush() -> None:
            with backend.begin(write=True) as txn:
                for rk, raw in pending:
                    main, sub, tomb = parse_rev_key(rk)
                    txn.put(rk, raw, db=key_t, append=True)
                    user_key = internal_user_key(raw)
                    old = txn.get(user_key, db=kidx_t)
                    revs = decode_index(old) if old is not None else array("Q")
                    revs.append(pack(main, sub, tomb))
                    txn.put(user_key, encode_index(revs), db=kidx_t)
            pending.clear()

        for rk, raw in data.key_entries:
            pending.append((rk, raw))
            last_main = max(last_main, parse_rev_key(rk)[0])
            if len(pending) >= batch:
                flush()
        flush()
        compact = data.meta.finished_compact_revision
        current = max(last_main, compact or 0, 1)
        with backend.begin(write=True) as txn:
            txn.put(META_CURRENT_REV, _U64.pack(current), db=meta_t)
            if compact is not None:
                txn.put(META_COMPACT_REV, _U64.pack(compact + 1), db=meta_t)
            txn.put(META_APPLIED_INDEX, _U64.pack(0), db=meta_t)
            txn.put(META_TERM, _U64.pack(data.meta.term or 0), db=meta_t)
            lease_t = backend.table(b"lease")
            for rec in data.leases:
                txn.put(_U64.pack(rec.ID & _MASK64), rec.SerializeToString(), db=lease_t)
            for user in data.users:
                txn.put(user.name, user.SerializeToString(), db=backend.table(b"authUsers"))
            for role in data.roles:
                txn.put(role.name, role.SerializeToString(), db=backend.table(b"authRoles"))
            auth_t = backend.table(b"auth")
            if data.auth_enabled is not None:
                txn.put(b"authEnabled", b"\x01" if data.auth_enabled else b"\x00", db=auth_t)
            if data.auth_revision is not None:
                txn.put(b"authRevision", _U64.pack(data.auth_revision), db=auth_t)
        backend.close()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return current


def internal_user_key(raw_kv: bytes) -> bytes:
    """The user key of a marshalled KeyValue (field 1), without a full parse."""
    from etcdkit.api.pb import kv_pb2

    return bytes(kv_pb2.KeyValue.FromString(raw_kv).key)
