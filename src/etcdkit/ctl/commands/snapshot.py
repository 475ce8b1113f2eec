"""snapshot save (streams Maintenance.Snapshot to ``<file>.part`` then renames, like etcdctl) and
snapshot status/restore, which delegate to ``etcdkit.server.storage.snapshot`` when that module exists.

The storage module is expected to offer ``status(path) -> {"hash", "revision", "totalKey", "totalSize"}``
and ``restore(path, *, data_dir, wal_dir, name, initial_cluster, initial_cluster_token,
initial_advertise_peer_urls, skip_hash_check)``; until it lands both commands exit 1 saying so.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import Any

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_ERROR, EXIT_INTERRUPTED, CtlError
from etcdkit.ctl.printers._gofmt import humanize_bytes

__all__ = ["restore", "save", "status"]


def _zap(caller: str, msg: str, iso: bool = False, **fields: Any) -> None:
    now = time.time()
    ts = (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z") if iso else now
    rec = {"level": "info", "ts": ts, "caller": caller, "msg": msg, **fields}
    sys.stderr.write(json.dumps(rec, separators=(",", ":")) + "\n")
    sys.stderr.flush()


def save(ctx: Context) -> int:
    import grpc

    from etcdkit.api.pb import rpc_pb2

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "snapshot save expects one argument")
    settings = ctx.settings()
    if len(settings.endpoints) != 1:
        raise CtlError(EXIT_INTERRUPTED, "snapshot must be requested to one selected node, not multiple "
                       f"[{' '.join(settings.endpoints)}]")
    path = ctx.args[0]
    part = path + ".part"
    try:
        fh = open(part, "wb")  # noqa: SIM115 - closed in finally
    except OSError as exc:
        reason = (exc.strerror or "").lower()
        raise CtlError(EXIT_INTERRUPTED, f"could not open {part} (open {part}: {reason})") from None
    _zap("snapshot/v3_snapshot.go:119", "created temporary db file", path=part)
    conn = ctx.conn()
    timeout = settings.command_timeout if "command-timeout" in ctx.inv.changed else None
    tty = sys.stdout.isatty() and sys.stderr.isatty()
    size = 0
    start = time.monotonic()
    try:
        conn.authenticate()
        call = conn.stub("Maintenance").Snapshot(rpc_pb2.SnapshotRequest(), timeout=timeout,
                                                 metadata=conn.metadata or None)
        _zap("clientv3/maintenance.go:200", "opened snapshot stream; downloading", iso=True)
        _zap("snapshot/v3_snapshot.go:127", "fetching snapshot", endpoint=conn.endpoint)
        for chunk in call:
            fh.write(chunk.blob)
            size += len(chunk.blob)
            if tty:
                total = size + chunk.remaining_bytes
                pct = 100 * size // total if total else 100
                bar = "#" * (pct // 4)
                sys.stderr.write(f"\r[{bar:<25}] {pct:3d}% {humanize_bytes(size)}")
                sys.stderr.flush()
        _zap("clientv3/maintenance.go:208", "completed snapshot read; closing", iso=True)
        if tty:
            sys.stderr.write("\r\x1b[K")
        fh.flush()
        os.fsync(fh.fileno())
    except grpc.RpcError as err:
        fh.close()
        raise CtlError(EXIT_INTERRUPTED, conn.render(err, warn=False).text) from None
    finally:
        fh.close()
    _zap("snapshot/v3_snapshot.go:142", "fetched snapshot", endpoint=conn.endpoint, size=humanize_bytes(size),
         took=round(time.monotonic() - start, 9))
    os.replace(part, path)
    _zap("snapshot/v3_snapshot.go:152", "saved", path=path)
    ctx.out(f"Snapshot saved at {path}\n")
    return 0


def _storage() -> Any:
    try:
        return importlib.import_module("etcdkit.server.storage.snapshot")
    except ImportError:
        return None


def status(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "snapshot status requires exactly one argument")
    mod = _storage()
    if mod is None or not hasattr(mod, "status"):
        raise CtlError(EXIT_ERROR, "snapshot status is not available: etcdkit.server.storage.snapshot is not installed")
    try:
        st = mod.status(ctx.args[0])
    except Exception as exc:
        raise CtlError(EXIT_ERROR, str(exc)) from None
    ctx.print("db_status", dict(st))
    return 0


def restore(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "snapshot restore requires exactly one argument")
    mod = _storage()
    if mod is None or not hasattr(mod, "restore"):
        raise CtlError(EXIT_ERROR, "snapshot restore is not available: etcdkit.server.storage.snapshot is not "
                       "installed")
    v = ctx.values
    data_dir = v["data-dir"] or f"{v['name']}.etcd"
    try:
        mod.restore(ctx.args[0], data_dir=data_dir, wal_dir=v["wal-dir"] or os.path.join(data_dir, "member", "wal"),
                    name=v["name"], initial_cluster=v["initial-cluster"],
                    initial_cluster_token=v["initial-cluster-token"],
                    initial_advertise_peer_urls=v["initial-advertise-peer-urls"],
                    skip_hash_check=v["skip-hash-check"])
    except Exception as exc:
        raise CtlError(EXIT_ERROR, str(exc)) from None
    return 0
