"""Benchmark: etcd snapshot files written/read by etcdkit vs etcdctl's save/restore.

Usage: ``PYTHONPATH=src python bench/snapshot.py [--keys 1000000] [--value-size 100]``

Steps, each in its own child process so its wall time and peak RSS are its own:

1. ``ours write``: stream N synthetic KeyValues (one revision each) into an
   etcd snapshot file with :func:`write_etcd_snapshot` (what our
   Maintenance.Snapshot / ``snapshot save`` does from storage);
2. ``etcdctl restore``: ``etcdctl snapshot restore`` of that file into an etcd
   data dir (also proves etcd accepts it);
3. ``ours read``: :func:`read_etcd_snapshot` with hash check, decoding every
   key entry (what our ``snapshot restore`` must do before inserting);
4. ``etcdctl save``: real etcd started on the restored dir, ``etcdctl
   snapshot save`` over gRPC;
5. ``status``: :func:`snapshot_status` vs ``etcdctl snapshot status``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ENV = {
    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    "ETCDCTL_API": "3",
    "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
}


def run_child(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS MiB) of that child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    print(f"  {cmd[:4]}: {wall:.1f}s, {usage.ru_maxrss / 1024:.0f} MiB", file=sys.stderr, flush=True)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return wall, usage.ru_maxrss / 1024


def _entries(keys: int, value_size: int) -> Iterator[tuple[bytes, bytes]]:
    from etcdkit.api.pb import kv_pb2
    from etcdkit.server.storage.etcd_snapshot import encode_revision_key

    kv = kv_pb2.KeyValue(value=b"x" * value_size, version=1)
    for i in range(keys):
        kv.key = b"/bench/key/%010d" % i
        kv.create_revision = kv.mod_revision = i + 2
        yield encode_revision_key(i + 2), kv.SerializeToString()


def step_write(path: str, keys: int, value_size: int) -> None:
    from etcdkit.server.storage.etcd_snapshot import EtcdSnapshotData, SnapshotMeta, write_etcd_snapshot

    entries = _entries(keys, value_size)
    if path == "-":  # only generate: the cost of making the input, to subtract
        for _ in entries:
            pass
        return

    write_etcd_snapshot(
        path, EtcdSnapshotData(key_entries=entries, meta=SnapshotMeta(consistent_index=1), cluster_version="3.4.0")
    )


def step_read(path: str) -> None:
    from etcdkit.server.storage.etcd_snapshot import iter_key_values, read_etcd_snapshot

    n = sum(1 for _ in iter_key_values(read_etcd_snapshot(path).key_entries))
    print(n)


def step_status(path: str) -> None:
    from etcdkit.server.storage.etcd_snapshot import snapshot_status

    print(snapshot_status(path).etcdctl_json())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_step":
        {
            "write": lambda a: step_write(a[0], int(a[1]), int(a[2])),
            "read": lambda a: step_read(a[0]),
            "status": lambda a: step_status(a[0]),
        }[sys.argv[2]](sys.argv[3:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--value-size", type=int, default=100)
    args = ap.parse_args()
    from etcdkit.testing import EtcdProcess

    me = [sys.executable, __file__, "_step"]
    work = Path(tempfile.mkdtemp(prefix="bench-snapshot-"))
    rows: list[tuple[str, float, float]] = []
    try:
        ours = work / "ours.db"
        rows.append(
            (
                "(input generation only, included below)",
                *run_child([*me, "write", "-", str(args.keys), str(args.value_size)]),
            )
        )
        rows.append(
            ("etcdkit write_etcd_snapshot", *run_child([*me, "write", str(ours), str(args.keys), str(args.value_size)]))
        )
        proc = EtcdProcess(data_dir=work / "restored", start_timeout=300)
        peer = f"http://127.0.0.1:{proc.peer_port}"
        rows.append(
            (
                "etcdctl snapshot restore",
                *run_child(
                    [
                        "etcdctl",
                        "snapshot",
                        "restore",
                        str(ours),
                        f"--data-dir={proc.data_dir}",
                        "--name=default",
                        f"--initial-cluster=default={peer}",
                        f"--initial-advertise-peer-urls={peer}",
                    ]
                ),
            )
        )
        rows.append(("etcdkit read_etcd_snapshot (all keys decoded)", *run_child([*me, "read", str(ours)])))
        with proc:
            rows.append(
                (
                    "etcdctl snapshot save",
                    *run_child(["etcdctl", f"--endpoints={proc.endpoint}", "snapshot", "save", str(work / "etcd.db")]),
                )
            )
        rows.append(("etcdkit snapshot_status", *run_child([*me, "status", str(ours)])))
        rows.append(("etcdctl snapshot status", *run_child(["etcdctl", "snapshot", "status", str(ours)])))
        size = ours.stat().st_size
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{args.keys} keys, {args.value_size}-byte values, snapshot {size / 2**20:.0f} MiB")
    print("| step | wall s | peak RSS MiB |\n|---|---:|---:|")
    for name, wall, rss in rows:
        print(f"| {name} | {wall:.1f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
