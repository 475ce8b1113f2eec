"""A snapshot built from scratch (no etcd involved) restores into real etcd, which serves exactly that data.

The history is generated here: thousands of keys over many revisions,
transactions (sub-revisions), deletions (tombstones), leases, values larger
than a page, users and roles with auth enabled. Real etcd must serve every
entry, and its HashKV must equal the hash computed from our entries
(CRC-32C of ``key`` then every revision key and value, no compaction).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import crc32c
import grpc
import pytest

from etcdkit.api.pb import auth_pb2, internal_pb2, kv_pb2, rpc_pb2
from etcdkit.server.storage.etcd_snapshot import (
    EtcdSnapshotData,
    MemberRecord,
    SnapshotMeta,
    encode_revision_key,
    snapshot_status,
    write_etcd_snapshot,
)

from .test_snapshot_interop import Client, ClientFactory, client_for, etcdctl, pytestmark, restore_and_start

__all__ = ["client_for", "pytestmark"]

Entries = list[tuple[bytes, bytes]]
Synthetic = tuple[Path, Entries, dict[bytes, kv_pb2.KeyValue], list[int]]

# A bcrypt hash real etcd 3.4 produced for the password "rootpw" (cost 10).
ROOT_HASH = b"$2a$10$.yusgbmKcVzuTi.KQEKUgeyj6Y7RRsMr/vvgBii.sngWD1XbOMfGe"


def generate(seed: int, n_keys: int) -> tuple[Entries, dict[bytes, kv_pb2.KeyValue], list[int]]:
    """A history as etcd would store it: (revision key, KeyValue) entries, the head state and lease IDs."""
    rng = random.Random(seed)
    leases = [1000 + i for i in range(4)]
    entries: list[tuple[bytes, bytes]] = []
    live: dict[bytes, kv_pb2.KeyValue] = {}
    rev = 1
    names = [b"key/%05d" % i for i in range(n_keys)]

    def put(key: bytes, sub: int) -> None:
        old = live.get(key)
        big = rng.random() < 0.01
        value = rng.randbytes(rng.randint(5000, 12000)) if big else b"v%d-%d" % (rev, sub)
        kv = kv_pb2.KeyValue(
            key=key,
            value=value,
            create_revision=old.create_revision if old else rev,
            mod_revision=rev,
            version=old.version + 1 if old else 1,
            lease=rng.choice(leases) if rng.random() < 0.1 else 0,
        )
        live[key] = kv
        entries.append((encode_revision_key(rev, sub), kv.SerializeToString()))

    def delete(key: bytes, sub: int) -> None:
        del live[key]
        entries.append((encode_revision_key(rev, sub, tombstone=True), kv_pb2.KeyValue(key=key).SerializeToString()))

    for key in names:
        rev += 1
        put(key, 0)
    for _ in range(n_keys // 2):
        rev += 1
        batch = rng.sample(names, rng.randint(1, 4))
        for sub, key in enumerate(sorted(batch)):
            if key in live and rng.random() < 0.2:
                delete(key, sub)
            else:
                put(key, sub)
    return entries, live, leases


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    entries, live, leases = generate(seed=8, n_keys=3000)
    data = EtcdSnapshotData(
        key_entries=iter(entries),
        meta=SnapshotMeta(consistent_index=12345),
        leases=[internal_pb2.LeaseRecord(ID=lid, TTL=300 + lid % 10) for lid in leases],
        members=[MemberRecord(id=0xABCDEF, name="old", peer_urls=("http://127.0.0.1:1",))],
        cluster_version="3.4.0",
        auth_enabled=True,
        auth_revision=3,
        users=[auth_pb2.User(name=b"root", password=ROOT_HASH, roles=["root"])],
        roles=[auth_pb2.Role(name=b"root")],
    )
    path = tmp_path_factory.mktemp("synthetic") / "made.db"
    write_etcd_snapshot(path, data)
    return path, entries, live, leases


def test_etcdctl_status_reports_our_revision_and_keys(synthetic: Synthetic) -> None:
    path, entries, _live, _leases = synthetic
    theirs = json.loads(etcdctl("snapshot", "status", "-w", "json", str(path)))
    last_main = int.from_bytes(entries[-1][0][:8], "big")
    # key + meta (1) + lease (4) + members (1) + cluster (1) + auth (2) + authUsers (1) + authRoles (1)
    assert theirs["revision"] == last_main
    assert theirs["totalKey"] == len(entries) + 11
    assert json.loads(snapshot_status(path).etcdctl_json()) == theirs


def test_real_etcd_serves_exactly_our_history(synthetic: Synthetic, client_for: ClientFactory, tmp_path: Path) -> None:
    path, entries, live, leases = synthetic
    proc = restore_and_start(path, tmp_path)
    try:
        with grpc.insecure_channel(proc.endpoint) as ch:
            anon = Client(ch)
            with pytest.raises(grpc.RpcError) as denied:
                anon.range_all()
            assert denied.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # "user name is empty": auth is on
            token = anon.auth.Authenticate(rpc_pb2.AuthenticateRequest(name="root", password="rootpw")).token
        c = client_for(proc.endpoint, token)
        head = c.range_all()
        last_main = int.from_bytes(entries[-1][0][:8], "big")
        assert head.header.revision == last_main
        assert {kv.key: kv for kv in head.kvs} == live
        rng = random.Random(1)
        for rev_key, value in rng.sample(entries, 300):
            kv = kv_pb2.KeyValue.FromString(value)
            main = int.from_bytes(rev_key[:8], "big")
            assert c.get(kv.key, main) == ([] if rev_key.endswith(b"t") else [kv])
        expected = crc32c.crc32c(b"key")
        for rev_key, value in entries:
            expected = crc32c.crc32c(value, value=crc32c.crc32c(rev_key, value=expected))
        hkv = c.maint.HashKV(rpc_pb2.HashKVRequest(revision=last_main), timeout=30, metadata=c.md)
        assert hkv.hash == expected
        for lid in leases:
            ttl = c.lease.LeaseTimeToLive(rpc_pb2.LeaseTimeToLiveRequest(ID=lid, keys=True), timeout=10, metadata=c.md)
            assert ttl.grantedTTL == 300 + lid % 10
            assert sorted(ttl.keys) == sorted(k for k, kv in live.items() if kv.lease == lid)
    finally:
        proc.stop()
