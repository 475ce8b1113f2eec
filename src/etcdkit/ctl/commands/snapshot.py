"""snapshot save (streams Maintenance.Snapshot to ``<file>.part`` then renames, like etcdctl),
snapshot status (``etcdkit.server.storage.etcd_snapshot.snapshot_status``, the bbolt reader) and
snapshot restore (``etcdkit.server.snapshot.restore_snapshot``: builds an etcdkit data dir). Both
storage modules are imported lazily; if absent the commands exit 1 saying so.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_ERROR, EXIT_INTERRUPTED, CtlError
from etcdkit.ctl.printers._gofmt import humanize_bytes

__all__ = ["export", "restore", "save", "status"]


def _zap(caller: str, msg: str, *, iso: bool = False, level: str = "info", **fields: Any) -> None:
    """One zap JSON log line as etcdctl's snapshot code writes it (epoch or ISO timestamps, like etcdctl)."""
    now = time.time()
    ts = (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z") if iso else now
    rec = {"level": level, "ts": ts, "caller": caller, "msg": msg, **fields}
    sys.stderr.write(json.dumps(rec, separators=(",", ":"), ensure_ascii=False) + "\n")
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
        text = conn.render(err, warn=False).text
        _zap("clientv3/maintenance.go:210", "failed to receive from snapshot stream; closing", iso=True,
             level="warn", error=text)
        raise CtlError(EXIT_INTERRUPTED, text) from None
    finally:
        fh.close()
    _zap("snapshot/v3_snapshot.go:142", "fetched snapshot", endpoint=conn.endpoint, size=humanize_bytes(size),
         took=round(time.monotonic() - start, 9))
    os.replace(part, path)
    _zap("snapshot/v3_snapshot.go:152", "saved", path=path)
    ctx.out(f"Snapshot saved at {path}\n")
    return 0


def status(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "snapshot status requires exactly one argument")
    _ = ctx.display  # validates --write-out first, as etcdctl's initDisplayFromCmd
    from etcdkit.server.storage.etcd_snapshot import snapshot_status

    path = ctx.args[0]
    if not os.path.exists(path):
        raise CtlError(EXIT_ERROR, f"stat {path}: no such file or directory")
    try:
        st = snapshot_status(path)
    except Exception:  # any unreadable file is "invalid database" to etcdctl
        raise CtlError(EXIT_ERROR, "invalid database") from None
    ctx.print("db_status", {"hash": st.hash, "revision": st.revision, "totalKey": st.total_keys,
                            "totalSize": st.total_size})
    return 0


def restore(ctx: Context) -> int:
    """Restore into an etcdkit data dir (``etcdkit serve --data-dir``), via ``etcdkit.server.snapshot``."""
    from etcdkit.ctl.printers._gofmt import go_quote

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "snapshot restore requires exactly one argument")
    from etcdkit.server.snapshot import restore_snapshot

    v = ctx.values
    path = ctx.args[0]
    data_dir = v["data-dir"] or f"{v['name']}.etcd"
    wal_dir = v["wal-dir"] or os.path.join(data_dir, "member", "wal")
    if os.path.exists(data_dir):
        raise CtlError(EXIT_ERROR, f"data-dir {go_quote(data_dir)} exists")
    if not os.path.exists(path):
        raise CtlError(EXIT_ERROR, f"stat {path}: no such file or directory")
    where: dict[str, Any] = {"path": path, "wal-dir": wal_dir, "data-dir": data_dir,
             "snap-dir": os.path.join(data_dir, "member", "snap")}
    _zap("snapshot/v3_snapshot.go:296", "restoring snapshot", **where)
    try:
        restore_snapshot(path, data_dir, skip_hash_check=bool(v["skip-hash-check"]))
    except Exception as exc:
        raise CtlError(EXIT_ERROR, str(exc) or type(exc).__name__) from None
    _zap("snapshot/v3_snapshot.go:309", "restored snapshot", **where)
    return 0


def export(ctx: Context) -> int:
    """Make a real-etcd data dir from an etcd-format snapshot (etcd's own restore lays out its WAL)."""
    import shutil
    import subprocess

    from etcdkit.server.storage.etcd_snapshot import SnapshotError, verify_snapshot_hash

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "snapshot export requires exactly one argument")
    v = ctx.values
    path, target = ctx.args[0], v["etcd-data-dir"]
    if not target:
        raise CtlError(EXIT_BAD_ARGS, "snapshot export requires --etcd-data-dir")
    if not os.path.exists(path):
        raise CtlError(EXIT_ERROR, f"stat {path}: no such file or directory")
    if os.path.exists(target):
        raise CtlError(EXIT_ERROR, f"data-dir {target!r} exists")
    if not v["skip-hash-check"]:
        try:
            verify_snapshot_hash(path)
        except SnapshotError as exc:
            raise CtlError(EXIT_ERROR, str(exc)) from None
    tool = shutil.which("etcdutl") or shutil.which("etcdctl")
    if tool is None:
        raise CtlError(EXIT_ERROR, "snapshot export needs etcd's restore tool (etcdutl or etcdctl) on PATH: "
                       "etcd's WAL and raft snapshot are written by etcd's own tools")
    cmd = [tool, "snapshot", "restore", path, f"--data-dir={target}", f"--name={v['name']}",
           f"--initial-cluster={v['initial-cluster']}",
           f"--initial-advertise-peer-urls={v['initial-advertise-peer-urls']}",
           f"--initial-cluster-token={v['initial-cluster-token']}"]
    if v["skip-hash-check"]:
        cmd.append("--skip-hash-check")
    env = {**os.environ, "ETCDCTL_API": "3"}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CtlError(EXIT_ERROR, (done.stderr.strip().splitlines() or [f"{tool} failed"])[-1])
    ctx.out(f"Exported {path} to etcd data dir {target}\n")
    return 0
