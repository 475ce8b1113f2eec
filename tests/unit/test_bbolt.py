"""bbolt reader/writer: random bucket trees written and read back, checked by our reader and real bbolt."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Union

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etcdkit.server.storage.bbolt import (
    BoltFormatError,
    BoltReader,
    BoltTruncatedError,
    Bucket,
    BucketSource,
    NotBoltError,
    write_bolt,
)
from etcdkit.server.storage.etcd_snapshot import snapshot_status

Tree = dict[bytes, Union[bytes, "Tree"]]

keys = st.binary(min_size=1, max_size=24)
small_values = st.binary(max_size=120)
# Larger than a page, built from a short random pattern (random bytes that long exhaust hypothesis' entropy).
big_values = st.builds(
    lambda pattern, n: (pattern * (n // len(pattern) + 1))[:n],
    st.binary(min_size=1, max_size=16),
    st.integers(min_value=4000, max_value=20000),
)
values = st.one_of(small_values, small_values, small_values, big_values)
trees = st.recursive(
    st.dictionaries(keys, values, max_size=40),
    lambda children: st.dictionaries(keys, st.one_of(values, children), max_size=12),
    max_leaves=60,
)
roots = st.dictionaries(keys.filter(lambda k: k != b"key"), trees, max_size=6)


def sequence_of(tree: Tree) -> int:
    """A bucket sequence number derived from the tree (so the model needs no extra field)."""
    return (len(tree) * 7919) % 2**64


def to_source(tree: Tree) -> BucketSource:
    items: list[tuple[bytes, bytes | BucketSource]] = []
    for k in sorted(tree):
        v = tree[k]
        items.append((k, v if isinstance(v, bytes) else to_source(v)))
    return BucketSource(items, sequence=sequence_of(tree))


def to_tree(reader: BoltReader, bucket: Bucket) -> Tree:
    out: Tree = {}
    prev: bytes | None = None
    for entry in bucket.items():
        assert prev is None or prev < entry.key, "keys must come back in strictly increasing order"
        prev = entry.key
        if entry.is_bucket:
            child = reader.open_bucket(entry.value)
            out[entry.key] = sub = to_tree(reader, child)
            assert child.sequence == sequence_of(sub)
        else:
            out[entry.key] = entry.value
    return out


def round_trip(path: Path, root: Tree, page_size: int = 4096) -> Tree:
    size = write_bolt(path, to_source(root), page_size=page_size)
    assert path.stat().st_size == size
    with BoltReader(path) as reader:
        assert reader.check() == []
        assert reader.page_size == page_size
        return to_tree(reader, reader.root)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root=roots)
def test_random_bucket_trees_round_trip(tmp_path: Path, root: Tree) -> None:
    assert round_trip(tmp_path / "t.db", root) == root


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(min_value=1000, max_value=6000), vlen=st.integers(min_value=0, max_value=300))
def test_thousands_of_keys_small_pages_make_deep_trees(tmp_path: Path, n: int, vlen: int) -> None:
    bucket: Tree = {b"k%08d" % i: bytes([i % 251]) * (vlen + i % 7) for i in range(n)}
    root: Tree = {b"b": bucket}
    assert round_trip(tmp_path / "t.db", root, page_size=1024) == root
    with BoltReader(tmp_path / "t.db") as reader:
        b = reader.bucket(b"b")
        assert b is not None
        for i in (0, n // 3, n - 1):
            assert b.get(b"k%08d" % i) == bucket[b"k%08d" % i]
        assert b.get(b"k%08d" % n) is None
        assert b.get(b"a") is None


def test_inline_buckets_are_used_for_small_leaf_buckets(tmp_path: Path) -> None:
    root: Tree = {b"small": {b"a": b"1"}, b"empty": {}, b"big": {b"x": b"y" * 2000}, b"parent": {b"c": {}}}
    assert round_trip(tmp_path / "t.db", root) == root
    with BoltReader(tmp_path / "t.db") as reader:
        inline = {name: b.is_inline for name, b in reader.root.buckets()}
    assert inline == {b"big": False, b"empty": True, b"parent": False, b"small": True}


def test_values_and_keys_larger_than_a_page_use_overflow_pages(tmp_path: Path) -> None:
    root: Tree = {b"b": {b"k" * 5000 + bytes([i]): bytes([i]) * 70000 for i in range(5)}}
    assert round_trip(tmp_path / "t.db", root) == root
    with BoltReader(tmp_path / "t.db") as reader:
        assert reader.meta.high_water > 5 * 70000 // 4096


def test_writer_rejects_unsorted_duplicate_and_empty_keys(tmp_path: Path) -> None:
    for items in ([(b"b", b""), (b"a", b"")], [(b"a", b""), (b"a", b"")], [(b"", b"")]):
        with pytest.raises(ValueError):
            write_bolt(tmp_path / "t.db", BucketSource([(b"x", BucketSource(items))]))
    with pytest.raises(ValueError, match="must be a bucket"):
        write_bolt(tmp_path / "t.db", BucketSource([(b"x", b"not a bucket")]))


def test_corrupt_files_raise_format_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.db"
    write_bolt(good, to_source({b"b": {b"k%04d" % i: b"v" * 100 for i in range(500)}}))
    raw = good.read_bytes()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"hello world, not a database" * 400)
    with pytest.raises(NotBoltError):
        BoltReader(junk)
    short = tmp_path / "short.db"
    short.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(BoltTruncatedError):
        BoltReader(short)
    # Meta pages checksummed: flipping a byte in both makes the file unreadable.
    bad = bytearray(raw)
    bad[16 + 20] ^= 0xFF
    bad[4096 + 16 + 20] ^= 0xFF
    (tmp_path / "bad.db").write_bytes(bytes(bad))
    with pytest.raises(BoltFormatError):
        BoltReader(tmp_path / "bad.db")
    # A damaged element offset is caught while walking, not as an IndexError.
    mangled = bytearray(raw)
    mangled[3 * 4096 + 16 + 4 : 3 * 4096 + 16 + 8] = (10**9).to_bytes(4, "little")
    (tmp_path / "mangled.db").write_bytes(bytes(mangled))
    with BoltReader(tmp_path / "mangled.db") as reader, pytest.raises(BoltFormatError):
        for _name, bucket in reader.root.buckets():
            list(bucket.items())


needs_etcdctl = pytest.mark.skipif(shutil.which("etcdctl") is None, reason="etcdctl is not installed")


@needs_etcdctl
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root=roots)
def test_real_bbolt_reads_our_files_like_we_do(tmp_path: Path, root: Tree) -> None:
    """etcdctl opens the file with bbolt, runs Tx.Check and hashes every top-level entry: same numbers as ours."""
    path = tmp_path / "t.db"
    write_bolt(path, to_source(root))
    out = subprocess.run(
        ["etcdctl", "snapshot", "status", "-w", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "ETCDCTL_API": "3"},
    )
    theirs = json.loads(out.stdout)
    ours = snapshot_status(path)
    assert theirs == {"hash": ours.hash, "revision": 0, "totalKey": ours.total_keys, "totalSize": ours.total_size}
    assert ours.total_keys == sum(len(b) for b in root.values() if isinstance(b, dict))


@needs_etcdctl
def test_real_bbolt_checks_and_hashes_a_three_level_tree(tmp_path: Path) -> None:
    """60,000 keys in 4 KiB pages: leaves, two branch levels; bbolt's Tx.Check and hash agree with ours."""
    path = tmp_path / "deep.db"
    write_bolt(path, BucketSource([(b"b", BucketSource((b"key%08d" % i, b"v" * 30) for i in range(60000)))]))
    with BoltReader(path) as reader:
        bucket = reader.bucket(b"b")
        assert bucket is not None
        depth, page = 0, reader.page(bucket.root)
        while page.flags == 0x01:  # descend the first branch path
            depth += 1
            page = reader.page(page.branch_element(0)[1])
        assert depth >= 2
    out = subprocess.run(
        ["etcdctl", "snapshot", "status", "-w", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={"PATH": "/usr/bin:/bin", "ETCDCTL_API": "3"},
    )
    ours = snapshot_status(path)
    assert json.loads(out.stdout) == {
        "hash": ours.hash,
        "revision": 0,
        "totalKey": 60000,
        "totalSize": ours.total_size,
    }
