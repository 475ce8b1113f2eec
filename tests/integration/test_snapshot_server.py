"""Snapshots between etcdkit and real etcd, through the tools users already have.

* etcdkit -> ``etcdctl snapshot save`` -> ``etcdctl snapshot status`` and
  ``etcdctl snapshot restore`` -> real etcd serves the same data (key by key,
  and the same HashKV);
* real etcd -> ``etcdctl snapshot save`` -> ``restore_snapshot`` -> etcdkit
  serves the same data at the same revision with the same HashKV;
* a damaged snapshot never creates or touches a data dir.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import grpc
import pytest

from etcdkit.api.pb import auth_pb2, rpc_pb2, rpc_pb2_grpc
from etcdkit.server.snapshot import RestoreError, restore_snapshot
from etcdkit.server.storage.etcd_snapshot import SnapshotError
from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess

ETCDCTL = "/usr/bin/etcdctl"
pytestmark = pytest.mark.skipif(EtcdProcess.binary() is None and not os.environ.get("ETCDKIT_REQUIRE_ETCD"),
                                reason="real etcd not installed")


def etcdctl(*args: str, endpoint: str | None = None) -> str:
    cmd = [ETCDCTL, *( [f"--endpoints={endpoint}"] if endpoint else [] ), *args]
    env = {**os.environ, "ETCDCTL_API": "3"}
    return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, timeout=60).stdout


def populate(endpoint: str) -> None:
    with grpc.insecure_channel(endpoint) as ch:
        kv, lease = rpc_pb2_grpc.KVStub(ch), rpc_pb2_grpc.LeaseStub(ch)
        lid = lease.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=3600, ID=0x1234), timeout=10).ID
        for i in range(300):
            kv.Put(rpc_pb2.PutRequest(key=f"/snap/{i % 120:04d}".encode(), value=os.urandom(i % 50 + 1)), timeout=10)
        kv.Put(rpc_pb2.PutRequest(key=b"/snap/big", value=b"v" * 20000), timeout=10)
        kv.Put(rpc_pb2.PutRequest(key=b"/snap/leased", value=b"l", lease=lid), timeout=10)
        kv.DeleteRange(rpc_pb2.DeleteRangeRequest(key=b"/snap/0007"), timeout=10)
        rev = kv.Range(rpc_pb2.RangeRequest(key=b"/snap/"), timeout=10).header.revision
        kv.Compact(rpc_pb2.CompactionRequest(revision=rev - 50, physical=True), timeout=10)
        kv.Put(rpc_pb2.PutRequest(key=b"/snap/0001", value=b"after-compaction"), timeout=10)
        auth = rpc_pb2_grpc.AuthStub(ch)
        auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="alice", password="pw"), timeout=10)
        auth.RoleAdd(rpc_pb2.AuthRoleAddRequest(name="reader"), timeout=10)
        perm = auth_pb2.Permission(permType=auth_pb2.Permission.READ, key=b"/snap/", range_end=b"/snap0")
        auth.RoleGrantPermission(rpc_pb2.AuthRoleGrantPermissionRequest(name="reader", perm=perm), timeout=10)
        auth.UserGrantRole(rpc_pb2.AuthUserGrantRoleRequest(user="alice", role="reader"), timeout=10)


def state(endpoint: str) -> tuple[object, ...]:
    with grpc.insecure_channel(endpoint) as ch:
        kv, m, lease = rpc_pb2_grpc.KVStub(ch), rpc_pb2_grpc.MaintenanceStub(ch), rpc_pb2_grpc.LeaseStub(ch)
        auth = rpc_pb2_grpc.AuthStub(ch)
        roles = list(auth.UserGet(rpc_pb2.AuthUserGetRequest(name="alice"), timeout=10).roles)
        perms = list(auth.RoleGet(rpc_pb2.AuthRoleGetRequest(role="reader"), timeout=10).perm)
        r = kv.Range(rpc_pb2.RangeRequest(key=b"\x00", range_end=b"\x00"), timeout=10)
        kvs = [(x.key, x.value, x.create_revision, x.mod_revision, x.version, x.lease) for x in r.kvs]
        h = m.HashKV(rpc_pb2.HashKVRequest(revision=0), timeout=10)
        leases = sorted(x.ID for x in lease.LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=10).leases)
        return kvs, r.header.revision, h.hash, leases, roles, perms


def restore_into_etcd(snapshot: Path, target: Path) -> EtcdProcess:
    proc = EtcdProcess(data_dir=target)
    peer = f"http://127.0.0.1:{proc.peer_port}"
    etcdctl("snapshot", "restore", str(snapshot), f"--data-dir={target}", f"--name={proc.member_name}",
            f"--initial-cluster={proc.member_name}={peer}", f"--initial-advertise-peer-urls={peer}")
    return proc


def _cleanup(*procs: ServerProcess) -> None:
    for p in procs:
        p.stop()


def test_etcdkit_snapshot_restores_into_real_etcd(tmp_path: Path) -> None:
    src = EtcdkitProcess().start()
    dst: EtcdProcess | None = None
    try:
        populate(src.endpoint)
        want = state(src.endpoint)
        snap = tmp_path / "kit.db"
        etcdctl("snapshot", "save", str(snap), endpoint=src.endpoint)
        status = json.loads(etcdctl("snapshot", "status", str(snap), "-w", "json"))
        assert status["revision"] == want[1]
        dst = restore_into_etcd(snap, tmp_path / "etcd-data").start()
        assert state(dst.endpoint) == want
    finally:
        src.cleanup()
        if dst is not None:
            dst.stop()


def test_etcd_snapshot_restores_into_etcdkit(tmp_path: Path) -> None:
    src = EtcdProcess().start()
    dst: EtcdkitProcess | None = None
    try:
        populate(src.endpoint)
        want = state(src.endpoint)
        snap = tmp_path / "etcd.db"
        etcdctl("snapshot", "save", str(snap), endpoint=src.endpoint)
        target = tmp_path / "kit-data"
        assert restore_snapshot(snap, target) == want[1]
        dst = EtcdkitProcess(data_dir=target).start()
        assert state(dst.endpoint) == want
    finally:
        src.cleanup()
        if dst is not None:
            dst.stop()


def test_damaged_snapshots_never_write_a_data_dir(tmp_path: Path) -> None:
    with EtcdkitProcess() as src:
        populate(src.endpoint)
        good = tmp_path / "good.db"
        etcdctl("snapshot", "save", str(good), endpoint=src.endpoint)
    raw = good.read_bytes()
    cases = {
        "truncated": raw[: len(raw) // 2],
        "bad-hash": raw[:-1] + bytes([raw[-1] ^ 0xFF]),
        "not-bbolt": b"this is not a database" * 300,
    }
    for name, data in cases.items():
        bad = tmp_path / f"{name}.db"
        bad.write_bytes(data)
        target = tmp_path / f"out-{name}"
        with pytest.raises(SnapshotError):
            restore_snapshot(bad, target)
        assert not target.exists(), name
    existing = tmp_path / "existing"
    existing.mkdir()
    (existing / "keep").write_text("mine")
    with pytest.raises(RestoreError):
        restore_snapshot(good, existing)
    assert (existing / "keep").read_text() == "mine"


def test_snapshot_and_auth_work_after_defragment(tmp_path: Path) -> None:
    with EtcdkitProcess(extra_args=["--bcrypt-cost=4"]) as srv, grpc.insecure_channel(srv.endpoint) as ch:
        populate(srv.endpoint)
        before = state(srv.endpoint)
        rpc_pb2_grpc.MaintenanceStub(ch).Defragment(rpc_pb2.DefragmentRequest(), timeout=30)
        assert state(srv.endpoint) == before
        snap = tmp_path / "after-defrag.db"
        etcdctl("snapshot", "save", str(snap), endpoint=srv.endpoint)
        assert json.loads(etcdctl("snapshot", "status", str(snap), "-w", "json"))["revision"] == before[1]
        auth = rpc_pb2_grpc.AuthStub(ch)
        auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="after", password="pw"), timeout=10)
        assert auth.UserGet(rpc_pb2.AuthUserGetRequest(name="after"), timeout=10).roles == []


def test_cli_export_makes_an_etcd_data_dir(tmp_path: Path) -> None:
    import sys

    with EtcdkitProcess() as src:
        populate(src.endpoint)
        want = state(src.endpoint)
        snap = tmp_path / "kit.db"
        etcdctl("snapshot", "save", str(snap), endpoint=src.endpoint)
    target = tmp_path / "exported"
    proc = EtcdProcess(data_dir=target)
    peer = f"http://127.0.0.1:{proc.peer_port}"
    done = subprocess.run(
        [sys.executable, "-m", "etcdkit", "snapshot", "export", str(snap), f"--etcd-data-dir={target}",
         f"--name={proc.member_name}", f"--initial-cluster={proc.member_name}={peer}",
         f"--initial-advertise-peer-urls={peer}"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    try:
        proc.start()
        assert state(proc.endpoint) == want
    finally:
        proc.stop()
    again = subprocess.run(
        [sys.executable, "-m", "etcdkit", "snapshot", "export", str(snap), f"--etcd-data-dir={target}"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert again.returncode != 0 and "exists" in again.stderr
