"""Snapshots interoperable with real etcd: its ``snapshot save`` files read key by key, ours restored by it.

One real etcd (module fixture) gets keys over many revisions (transactions
with sub-revisions, deletions, leases, a value larger than a page, a
compaction), users and roles, and is snapshotted with ``etcdctl snapshot
save``. Every check compares against what etcd itself serves over gRPC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from etcdkit.api.pb import auth_pb2, kv_pb2, rpc_pb2, rpc_pb2_grpc
from etcdkit.server.storage.etcd_snapshot import (
    EtcdSnapshotData,
    iter_key_values,
    read_etcd_snapshot,
    snapshot_chunks,
    snapshot_status,
    write_etcd_snapshot,
)
from etcdkit.testing import EtcdProcess

pytestmark = pytest.mark.skipif(
    EtcdProcess.binary() is None or shutil.which("etcdctl") is None, reason="real etcd/etcdctl not installed"
)


def etcdctl(*args: str, endpoint: str | None = None) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ETCDCTL_API": "3"}
    cmd = ["etcdctl", *([f"--endpoints={endpoint}"] if endpoint else []), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, f"{cmd} failed: {done.stderr}"
    return done.stdout


@dataclass
class Client:
    """gRPC stubs on one endpoint (optionally with an auth token)."""

    channel: grpc.Channel
    token: str | None = None

    def __post_init__(self) -> None:
        self.kv = rpc_pb2_grpc.KVStub(self.channel)
        self.lease = rpc_pb2_grpc.LeaseStub(self.channel)
        self.auth = rpc_pb2_grpc.AuthStub(self.channel)
        self.maint = rpc_pb2_grpc.MaintenanceStub(self.channel)

    @property
    def md(self) -> tuple[tuple[str, str | bytes], ...] | None:
        return (("token", self.token),) if self.token else None

    def range_all(self, revision: int = 0) -> rpc_pb2.RangeResponse:
        req = rpc_pb2.RangeRequest(key=b"\0", range_end=b"\0", revision=revision)
        resp: rpc_pb2.RangeResponse = self.kv.Range(req, timeout=10, metadata=self.md)
        return resp

    def get(self, key: bytes, revision: int) -> list[kv_pb2.KeyValue]:
        resp = self.kv.Range(rpc_pb2.RangeRequest(key=key, revision=revision), timeout=10, metadata=self.md)
        return list(resp.kvs)


ClientFactory = Callable[..., Client]


@pytest.fixture
def client_for() -> Iterator[ClientFactory]:
    """``client_for(endpoint, token=None)``: a Client whose channel is closed after the test."""
    opened: list[grpc.Channel] = []

    def make(endpoint: str, token: str | None = None) -> Client:
        ch = grpc.insecure_channel(endpoint)
        opened.append(ch)
        return Client(ch, token)

    yield make
    for ch in opened:
        ch.close()


def populate(c: Client) -> int:
    """Write the fixture's history; return the compaction revision."""
    l1 = c.lease.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=600), timeout=10).ID
    l2 = c.lease.LeaseGrant(rpc_pb2.LeaseGrantRequest(TTL=900, ID=0x1234), timeout=10).ID

    def put(key: bytes, value: bytes, lease: int = 0) -> None:
        c.kv.Put(rpc_pb2.PutRequest(key=key, value=value, lease=lease), timeout=10)

    for i in range(120):
        put(b"k/%03d" % i, b"v0-%d" % i, lease=l1 if i % 10 == 0 else 0)
    for i in range(0, 120, 3):
        put(b"k/%03d" % i, b"v1-%d" % i)
    ops = [rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=b"txn/%d" % i, value=b"t")) for i in range(5)]
    c.kv.Txn(rpc_pb2.TxnRequest(success=ops), timeout=10)
    c.kv.DeleteRange(rpc_pb2.DeleteRangeRequest(key=b"k/1", range_end=b"k/2"), timeout=10)
    compact = c.range_all().header.revision
    c.kv.Compact(rpc_pb2.CompactionRequest(revision=compact, physical=True), timeout=30)
    put(b"big", bytes(range(256)) * 40)  # 10 KiB: an overflow page
    for i in range(0, 100, 7):
        put(b"k/%03d" % i, b"v2-%d" % i, lease=l2)
    c.kv.DeleteRange(rpc_pb2.DeleteRangeRequest(key=b"k/014"), timeout=10)
    c.kv.Txn(
        rpc_pb2.TxnRequest(
            success=[
                rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=b"txn/0", value=b"again")),
                rpc_pb2.RequestOp(request_delete_range=rpc_pb2.DeleteRangeRequest(key=b"txn/1")),
                rpc_pb2.RequestOp(request_put=rpc_pb2.PutRequest(key=b"\xff\x00binary", value=b"")),
            ]
        ),
        timeout=10,
    )
    c.auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="root", password="rootpw"), timeout=10)
    c.auth.UserGrantRole(rpc_pb2.AuthUserGrantRoleRequest(user="root", role="root"), timeout=10)
    c.auth.RoleAdd(rpc_pb2.AuthRoleAddRequest(name="reader"), timeout=10)
    perm = auth_pb2.Permission(permType=auth_pb2.Permission.READ, key=b"k/", range_end=b"k0")
    c.auth.RoleGrantPermission(rpc_pb2.AuthRoleGrantPermissionRequest(name="reader", perm=perm), timeout=10)
    c.auth.UserAdd(rpc_pb2.AuthUserAddRequest(name="alice", password="pw"), timeout=10)
    c.auth.UserGrantRole(rpc_pb2.AuthUserGrantRoleRequest(user="alice", role="reader"), timeout=10)
    return compact


@dataclass
class Source:
    proc: EtcdProcess
    snapshot: Path
    compact: int


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Source]:
    snap = tmp_path_factory.mktemp("snap") / "etcd.db"
    with EtcdProcess() as proc, grpc.insecure_channel(proc.endpoint) as ch:
        compact = populate(Client(ch))
        etcdctl("snapshot", "save", str(snap), endpoint=proc.endpoint)
        yield Source(proc, snap, compact)


def check_serves_entries(c: Client, data: EtcdSnapshotData, compact: int) -> int:
    """Every key-bucket entry is what etcd serves at its revision; return the number checked."""
    checked = 0
    for main, _sub, tomb, kv in iter_key_values(data.key_entries):
        at = max(main, compact)  # entries at or below the compaction are the versions kept at it
        served = c.get(kv.key, at)
        if tomb:
            assert served == [], f"{kv.key!r} deleted at {main} but served"
        else:
            assert served == [kv], f"{kv.key!r} at {main}: served {served}, snapshot {kv}"
        checked += 1
    return checked


def head_state(data: EtcdSnapshotData) -> dict[bytes, kv_pb2.KeyValue]:
    state: dict[bytes, kv_pb2.KeyValue] = {}
    for _main, _sub, tomb, kv in iter_key_values(data.key_entries):
        if tomb:
            state.pop(kv.key, None)
        else:
            state[kv.key] = kv
    return state


def test_real_snapshot_read_key_by_key_equals_what_etcd_serves(source: Source, client_for: ClientFactory) -> None:
    c = client_for(source.proc.endpoint)
    data = read_etcd_snapshot(source.snapshot)
    assert data.meta.finished_compact_revision == source.compact
    assert data.meta.scheduled_compact_revision == source.compact
    assert check_serves_entries(c, data, source.compact) > 100
    head = c.range_all()
    assert {kv.key: kv for kv in head.kvs} == head_state(data)
    assert max(main for main, *_ in iter_key_values(data.key_entries)) == head.header.revision
    leases = c.lease.LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=10).leases
    assert sorted(lease.ID for lease in data.leases) == sorted(lease.ID for lease in leases)
    assert {lease.ID: lease.TTL for lease in data.leases}[0x1234] == 900
    assert sorted(u.name for u in data.users) == [b"alice", b"root"]
    alice = next(u for u in data.users if u.name == b"alice")
    assert list(alice.roles) == ["reader"]
    reader = next(r for r in data.roles if r.name == b"reader")
    assert [(p.key, p.range_end) for p in reader.keyPermission] == [(b"k/", b"k0")]
    assert not data.auth_enabled
    assert data.cluster_version is not None and data.cluster_version.startswith("3.")
    assert [m.name for m in data.members] == ["default"]


def test_snapshot_status_matches_etcdctl_on_a_real_snapshot(source: Source) -> None:
    theirs = json.loads(etcdctl("snapshot", "status", "-w", "json", str(source.snapshot)))
    assert json.loads(snapshot_status(source.snapshot).etcdctl_json()) == theirs


def restore_and_start(snapshot: Path, where: Path) -> EtcdProcess:
    """``etcdctl snapshot restore`` into a data dir matching the EtcdProcess flags, then start etcd on it."""
    proc = EtcdProcess(data_dir=where / "restored")
    peer = f"http://127.0.0.1:{proc.peer_port}"
    etcdctl(
        "snapshot",
        "restore",
        str(snapshot),
        f"--data-dir={proc.data_dir}",
        f"--name={proc.member_name}",
        f"--initial-cluster={proc.member_name}={peer}",
        f"--initial-advertise-peer-urls={peer}",
    )
    return proc.start()


def test_our_rewrite_of_a_real_snapshot_restores_into_real_etcd(
    source: Source, client_for: ClientFactory, tmp_path: Path
) -> None:
    data = read_etcd_snapshot(source.snapshot)
    ours = tmp_path / "ours.db"
    write_etcd_snapshot(ours, data)
    status = json.loads(etcdctl("snapshot", "status", "-w", "json", str(ours)))
    original = json.loads(etcdctl("snapshot", "status", "-w", "json", str(source.snapshot)))
    # Same logical content, so etcd's content hash, revision and key count agree (page layout may differ).
    assert (status["hash"], status["revision"], status["totalKey"]) == (
        original["hash"],
        original["revision"],
        original["totalKey"],
    )
    src = client_for(source.proc.endpoint)
    proc = restore_and_start(ours, tmp_path)
    try:
        dst = client_for(proc.endpoint)
        head_src, head_dst = src.range_all(), dst.range_all()
        assert head_dst.header.revision == head_src.header.revision
        assert list(head_dst.kvs) == list(head_src.kvs)
        assert check_serves_entries(dst, read_etcd_snapshot(ours), source.compact) > 100
        rev = head_src.header.revision
        h_src = src.maint.HashKV(rpc_pb2.HashKVRequest(revision=rev), timeout=10)
        h_dst = dst.maint.HashKV(rpc_pb2.HashKVRequest(revision=rev), timeout=10)
        assert (h_dst.hash, h_dst.compact_revision) == (h_src.hash, h_src.compact_revision)
        assert h_dst.compact_revision == source.compact
        both = f"{source.proc.endpoint},{proc.endpoint}"
        report = json.loads(etcdctl("endpoint", "hashkv", f"--rev={rev}", "-w", "json", endpoint=both))
        assert len(report) == 2
        assert len({(r["HashKV"]["hash"], r["HashKV"]["compact_revision"]) for r in report}) == 1
        for lease in src.lease.LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=10).leases:
            a = src.lease.LeaseTimeToLive(rpc_pb2.LeaseTimeToLiveRequest(ID=lease.ID, keys=True), timeout=10)
            b = dst.lease.LeaseTimeToLive(rpc_pb2.LeaseTimeToLiveRequest(ID=lease.ID, keys=True), timeout=10)
            assert (b.grantedTTL, sorted(b.keys)) == (a.grantedTTL, sorted(a.keys))
            assert 0 < b.TTL <= b.grantedTTL
        users = dst.auth.UserList(rpc_pb2.AuthUserListRequest(), timeout=10)
        assert sorted(users.users) == ["alice", "root"]
        role = dst.auth.RoleGet(rpc_pb2.AuthRoleGetRequest(role="reader"), timeout=10)
        assert [(p.key, p.range_end) for p in role.perm] == [(b"k/", b"k0")]
    finally:
        proc.stop()


def test_snapshot_stream_has_etcds_shape(source: Source, client_for: ClientFactory, tmp_path: Path) -> None:
    """Real etcd's Maintenance.Snapshot messages vs ours for a database of the same size: same blob sizes,
    same remaining_bytes, last message the SHA-256; concatenated, ours is a file etcdctl restores from."""
    c = client_for(source.proc.endpoint)
    theirs = [(len(m.blob), m.remaining_bytes) for m in c.maint.Snapshot(rpc_pb2.SnapshotRequest(), timeout=30)]
    assert theirs[-1] == (32, 0) and theirs[-2][1] == 0
    db_size = sum(n for n, _ in theirs[:-1])
    assert [r for _n, r in theirs[:-1]] == [
        db_size - sum(n for n, _ in theirs[: i + 1]) for i in range(len(theirs) - 1)
    ]
    bare = tmp_path / "bare.db"
    ours_size = write_etcd_snapshot(bare, read_etcd_snapshot(source.snapshot), with_hash=False)
    chunks = list(snapshot_chunks(bare))
    assert all(len(b) == 32 * 1024 for b, _r in chunks[:-2])
    assert [r for _b, r in chunks[:-1]] == [
        ours_size - 32 * 1024 * (i + 1) if i < len(chunks) - 2 else 0 for i in range(len(chunks) - 1)
    ]
    assert all(n == 32 * 1024 for n, _r in theirs[:-2])
    streamed = tmp_path / "streamed.db"
    streamed.write_bytes(b"".join(b for b, _r in chunks))
    assert read_etcd_snapshot(streamed).meta == read_etcd_snapshot(source.snapshot).meta  # hash verified
