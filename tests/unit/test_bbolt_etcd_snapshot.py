"""etcd snapshot files without a server: schema round trips, status, corrupt input, safe writes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcdkit.api.pb import auth_pb2, internal_pb2, kv_pb2, rpc_pb2
from etcdkit.server.storage.bbolt import BoltReader
from etcdkit.server.storage.etcd_snapshot import (
    EtcdSnapshotData,
    MemberRecord,
    SnapshotCorruptError,
    SnapshotError,
    SnapshotHashMismatchError,
    SnapshotMeta,
    SnapshotNotBoltError,
    SnapshotTruncatedError,
    decode_revision_key,
    encode_revision_key,
    iter_key_values,
    read_etcd_snapshot,
    snapshot_status,
    write_etcd_snapshot,
)


def kv_entries(n: int, value_size: int = 10) -> Iterator[tuple[bytes, bytes]]:
    for i in range(n):
        kv = kv_pb2.KeyValue(key=b"k%06d" % i, value=b"x" * value_size, create_revision=i + 2, mod_revision=i + 2)
        kv.version = 1
        yield encode_revision_key(i + 2), kv.SerializeToString()


def full_data(n: int = 50) -> EtcdSnapshotData:
    return EtcdSnapshotData(
        key_entries=kv_entries(n),
        meta=SnapshotMeta(
            consistent_index=99,
            term=4,
            scheduled_compact_revision=5,
            finished_compact_revision=5,
            extra={b"confState": b'{"voters":[1]}'},
        ),
        leases=[internal_pb2.LeaseRecord(ID=7, TTL=60), internal_pb2.LeaseRecord(ID=-2, TTL=5, RemainingTTL=3)],
        members=[MemberRecord(id=0x10, name="a", peer_urls=("http://x:1",), client_urls=("http://x:2",))],
        removed_members=[0x20],
        cluster_version="3.5.0",
        alarms=[rpc_pb2.AlarmMember(memberID=0x10, alarm=rpc_pb2.NOSPACE)],
        auth_enabled=True,
        auth_revision=12,
        users=[auth_pb2.User(name=b"u", password=b"h", roles=["r"])],
        roles=[auth_pb2.Role(name=b"r", keyPermission=[auth_pb2.Permission(key=b"a", range_end=b"b")])],
        extra_buckets={b"custom": [(b"z", b"1"), (b"a", b"2")]},
    )


def test_revision_keys_encode_as_etcd_does() -> None:
    assert encode_revision_key(3, 1) == b"\x00" * 7 + b"\x03_" + b"\x00" * 7 + b"\x01"
    assert encode_revision_key(3, tombstone=True).endswith(b"_" + b"\x00" * 8 + b"t")
    assert decode_revision_key(encode_revision_key(2**40, 7, tombstone=True)) == (2**40, 7, True)
    for bad in (b"", b"\x00" * 17, encode_revision_key(1) + b"x"):
        with pytest.raises(ValueError):
            decode_revision_key(bad)


def test_full_schema_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    size = write_etcd_snapshot(path, full_data())
    assert path.stat().st_size == size + 32
    assert hashlib.sha256(path.read_bytes()[:-32]).digest() == path.read_bytes()[-32:]
    got = read_etcd_snapshot(path)
    want = full_data()
    assert list(got.key_entries) == list(want.key_entries)
    assert list(got.key_entries) == list(kv_entries(50)), "key entries are re-iterable"
    assert got.meta == want.meta
    assert sorted(x.ID for x in got.leases) == [-2, 7]
    assert {x.ID: x for x in got.leases}[-2] == want.leases[1]
    assert got.members == want.members and got.removed_members == [0x20]
    assert got.cluster_version == "3.5.0" and got.alarms == want.alarms
    assert (got.auth_enabled, got.auth_revision) == (True, 12)
    assert got.users == want.users and got.roles == want.roles
    assert got.extra_buckets == {b"custom": [(b"a", b"2"), (b"z", b"1")]}
    status = snapshot_status(path)
    assert (status.revision, status.total_keys, status.total_size) == (
        51,
        50 + 5 + 2 + 1 + 1 + 1 + 1 + 2 + 1 + 1 + 2,
        size,
    )


def test_without_hash_and_empty_data(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    size = write_etcd_snapshot(path, EtcdSnapshotData(), with_hash=False)
    assert path.stat().st_size == size and size % 4096 == 0
    got = read_etcd_snapshot(path)
    assert list(got.key_entries) == [] and got.auth_enabled is None and got.meta.consistent_index == 0
    assert snapshot_status(path).revision == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    revisions=st.lists(st.tuples(st.integers(1, 2**40), st.integers(0, 3), st.booleans()), unique_by=lambda r: r[:2]),
    value=st.binary(max_size=9000),
)
def test_key_bucket_round_trip_in_revision_order(
    tmp_path: Path, revisions: list[tuple[int, int, bool]], value: bytes
) -> None:
    entries = sorted((encode_revision_key(m, s, tombstone=t), value) for m, s, t in revisions)
    path = tmp_path / "k.db"
    write_etcd_snapshot(path, EtcdSnapshotData(key_entries=iter(entries)))
    assert list(read_etcd_snapshot(path).key_entries) == entries
    last = max((m, s) for m, s, _t in revisions) if revisions else (0, 0)
    assert snapshot_status(path).revision == last[0]


def test_unsorted_or_malformed_key_entries_leave_the_target_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"precious")
    entries = [(encode_revision_key(3), b""), (encode_revision_key(2), b"")]
    with pytest.raises(ValueError, match="increasing"):
        write_etcd_snapshot(path, EtcdSnapshotData(key_entries=iter(entries)))
    with pytest.raises(ValueError, match="malformed"):
        write_etcd_snapshot(path, EtcdSnapshotData(key_entries=iter([(b"foo", b"")])))
    assert path.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["s.db"], "no temporary file left behind"


def test_refuses_to_write_over_a_directory(tmp_path: Path) -> None:
    target = tmp_path / "data-dir"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(IsADirectoryError):
        write_etcd_snapshot(target, full_data())
    assert [p.name for p in target.iterdir()] == ["keep"]


@pytest.fixture
def good_snapshot(tmp_path: Path) -> bytes:
    path = tmp_path / "good.db"
    write_etcd_snapshot(path, full_data(3000))
    return path.read_bytes()


def test_bad_hash_truncation_and_garbage_raise_clear_errors(tmp_path: Path, good_snapshot: bytes) -> None:
    flipped = bytearray(good_snapshot)
    flipped[5 * 4096 + 100] ^= 1
    cases: list[tuple[bytes, type[SnapshotError], str]] = [
        (bytes(flipped), SnapshotHashMismatchError, "hash mismatch"),
        (good_snapshot[: len(good_snapshot) // 2 + 7], SnapshotTruncatedError, "truncated"),
        (b"\x7fELF" + bytes(10000), SnapshotNotBoltError, "not an etcd snapshot"),
        (b"tiny", SnapshotNotBoltError, "not an etcd snapshot"),
    ]
    for i, (raw, exc, text) in enumerate(cases):
        path = tmp_path / f"bad{i}.db"
        path.write_bytes(raw)
        with pytest.raises(exc, match=text):
            read_etcd_snapshot(path)
        assert issubclass(exc, SnapshotCorruptError)


def test_damage_without_a_hash_is_found_while_streaming(tmp_path: Path, good_snapshot: bytes) -> None:
    raw = bytearray(good_snapshot[:-32])
    path = tmp_path / "raw.db"
    path.write_bytes(bytes(raw))
    with BoltReader(path) as reader:
        key_bucket = reader.bucket(b"key")
        assert key_bucket is not None and not key_bucket.is_inline
        leaf = next(iter(key_bucket.pages()))[0]  # root branch page
    # Point the first child of the key bucket's root at a page beyond the end.
    off = leaf * 4096 + 16 + 8
    raw[off : off + 8] = (10**6).to_bytes(8, "little")
    path.write_bytes(bytes(raw))
    data = read_etcd_snapshot(path)  # small buckets are fine; the key bucket breaks while iterating
    with pytest.raises(SnapshotCorruptError, match="out of range"):
        list(data.key_entries)
    with pytest.raises(SnapshotCorruptError):
        snapshot_status(path)


def test_decoded_key_values(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    write_etcd_snapshot(path, full_data(3))
    decoded = list(iter_key_values(read_etcd_snapshot(path).key_entries))
    assert [(m, s, t, kv.key) for m, s, t, kv in decoded] == [
        (2, 0, False, b"k000000"),
        (3, 0, False, b"k000001"),
        (4, 0, False, b"k000002"),
    ]


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("fuzz") / "s.db"
    write_etcd_snapshot(path, full_data(400), with_hash=False)
    return path.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(1, 255), st.booleans()), min_size=1, max_size=8))
def test_random_damage_gives_snapshot_errors_only(
    tmp_path: Path, small_db: bytes, flips: list[tuple[int, int, bool]]
) -> None:
    """Whatever bytes are damaged (no hash to catch it), reading either works or raises a SnapshotError."""
    raw = bytearray(small_db)
    for where, xor, structural in flips:
        # Half the damage lands in page headers and the first elements, where the structure is.
        at = (where % (len(raw) // 4096)) * 4096 + where % 96 if structural else where % len(raw)
        raw[at] ^= xor
    path = tmp_path / "damaged.db"
    path.write_bytes(bytes(raw))
    try:
        data = read_etcd_snapshot(path)
        list(data.key_entries)
        snapshot_status(path)
    except SnapshotError:
        pass
