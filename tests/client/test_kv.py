"""KV, txn and compaction against a live server (AsyncClient; the blocking Client in test_sync)."""

from __future__ import annotations

import pytest

from etcdkit.client import (
    AsyncClient,
    CompactedError,
    Compare,
    Delete,
    DuplicateKeyError,
    EmptyKeyError,
    FutureRevisionError,
    Get,
    LeaseNotFoundError,
    Put,
    SortOrder,
    SortTarget,
    Txn,
    TxnResponse,
)
from tests.client.conftest import run


def test_put_get_delete_basics(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            k = prefix + b"k"
            r1 = await c.put(k, b"v1")
            assert r1.prev_kv is None and r1.header.revision > 0
            r2 = await c.put(k, b"v2", prev_kv=True)
            assert r2.prev_kv is not None and r2.prev_kv.value == b"v1"
            assert r2.header.revision == r1.header.revision + 1
            g = await c.get(k)
            assert g.value == b"v2" and g.count == 1
            kv = g.kvs[0]
            assert (kv.key, kv.version, kv.create_revision, kv.mod_revision) == (
                k,
                2,
                r1.header.revision,
                r2.header.revision,
            )
            old = await c.get(k, revision=r1.header.revision)
            assert old.value == b"v1"
            d = await c.delete(k, prev_kv=True)
            assert d.deleted == 1 and d.prev_kvs[0].value == b"v2"
            assert (await c.get(k)).value is None
            assert (await c.delete(k)).deleted == 0

    run(body())


def test_range_options(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            revs = {}
            for name, value in [(b"a", b"3"), (b"b", b"1"), (b"c", b"2"), (b"d", b"0")]:
                revs[name] = (await c.put(prefix + name, value)).header.revision
            await c.put(prefix + b"a", b"3")  # a: version 2, newest mod revision
            await c.put(prefix[:-1] + b"0", b"outside")  # sorts after the prefix, not in it

            all_ = await c.get(prefix, prefix=True)
            assert [kv.key for kv in all_.kvs] == [prefix + x for x in (b"a", b"b", b"c", b"d")]
            assert all_.count == 4 and not all_.more

            lim = await c.get(prefix, prefix=True, limit=2)
            assert len(lim.kvs) == 2 and lim.more and lim.count == 4

            rng = await c.get(prefix + b"b", range_end=prefix + b"d")
            assert [kv.key for kv in rng.kvs] == [prefix + b"b", prefix + b"c"]

            fk = await c.get(prefix + b"c", from_key=True)
            assert [kv.key for kv in fk.kvs][:2] == [prefix + b"c", prefix + b"d"]
            assert prefix[:-1] + b"0" in [kv.key for kv in fk.kvs]

            by_value = await c.get(prefix, prefix=True, sort_target=SortTarget.VALUE, sort_order=SortOrder.ASCEND)
            assert [kv.value for kv in by_value.kvs] == [b"0", b"1", b"2", b"3"]
            desc = await c.get(prefix, prefix=True, sort_order=SortOrder.DESCEND)
            assert desc.kvs[0].key == prefix + b"d"
            by_version = await c.get(
                prefix, prefix=True, sort_target=SortTarget.VERSION, sort_order=SortOrder.DESCEND, limit=1
            )
            assert by_version.kvs[0].key == prefix + b"a"
            by_mod = await c.get(prefix, prefix=True, sort_target=SortTarget.MOD, sort_order=SortOrder.ASCEND)
            assert by_mod.kvs[0].key == prefix + b"b"
            by_create = await c.get(prefix, prefix=True, sort_target=SortTarget.CREATE, sort_order=SortOrder.DESCEND)
            assert by_create.kvs[0].key == prefix + b"d"

            ko = await c.get(prefix, prefix=True, keys_only=True)
            assert all(kv.value == b"" for kv in ko.kvs) and len(ko.kvs) == 4
            co = await c.get(prefix, prefix=True, count_only=True)
            assert co.kvs == () and co.count == 4
            ser = await c.get(prefix + b"b", serializable=True)
            assert ser.value == b"1"

            mm = await c.get(prefix, prefix=True, min_mod_revision=revs[b"c"])
            assert {kv.key for kv in mm.kvs} == {prefix + b"a", prefix + b"c", prefix + b"d"}
            xm = await c.get(prefix, prefix=True, max_mod_revision=revs[b"b"])
            assert [kv.key for kv in xm.kvs] == [prefix + b"b"]
            mc = await c.get(prefix, prefix=True, min_create_revision=revs[b"c"])
            assert [kv.key for kv in mc.kvs] == [prefix + b"c", prefix + b"d"]
            xc = await c.get(prefix, prefix=True, max_create_revision=revs[b"a"])
            assert [kv.key for kv in xc.kvs] == [prefix + b"a"]

            with pytest.raises(ValueError):
                await c.get(prefix, prefix=True, from_key=True)
            d = await c.delete(prefix + b"a", range_end=prefix + b"c")
            assert d.deleted == 2
            assert (await c.delete(prefix, prefix=True)).deleted == 2

    run(body())


def test_put_ignore_value_and_lease(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            k = prefix + b"k"
            lease = await c.lease_grant(60)
            await c.put(k, b"v", lease=lease.id)
            await c.put(k, ignore_value=True, ignore_lease=True)
            kv = (await c.get(k)).kvs[0]
            assert kv.value == b"v" and kv.lease == lease.id and kv.version == 2
            await c.put(k, b"w", ignore_lease=True)
            kv = (await c.get(k)).kvs[0]
            assert kv.value == b"w" and kv.lease == lease.id
            await c.lease_revoke(lease.id)
            assert (await c.get(k)).kvs == ()
            with pytest.raises(LeaseNotFoundError):
                await c.put(k, b"x", lease=lease.id)

    run(body())


def test_txn_compares_and_nesting(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            k, other = prefix + b"k", prefix + b"other"
            p = await c.put(k, b"v1")
            rev = p.header.revision
            ok = await c.txn(
                Txn()
                .when(
                    Compare.value(k).eq(b"v1"),
                    Compare.version(k).eq(1),
                    Compare.create_revision(k).eq(rev),
                    Compare.mod_revision(k).lt(rev + 1),
                    Compare.lease(k).eq(0),
                    Compare.version(other).eq(0),
                )
                .then(Put(k, b"v2", prev_kv=True), Get(k), Delete(other))
                .otherwise(Get(k))
            )
            assert ok.succeeded and len(ok.responses) == 3
            put_r, get_r, _ = ok.responses
            assert put_r.prev_kv is not None and put_r.prev_kv.value == b"v1"  # type: ignore[union-attr]
            assert get_r.kvs[0].value == b"v2"  # type: ignore[union-attr]

            failed = await c.txn(Txn().when(Compare.value(k).ne(b"v2")).then(Put(k, b"no")).otherwise(Get(k)))
            assert not failed.succeeded and failed.responses[0].kvs[0].value == b"v2"  # type: ignore[union-attr]

            await c.put(prefix + b"r1", b"1")
            await c.put(prefix + b"r2", b"1")
            ranged = await c.txn(Txn().when(Compare.version(prefix + b"r", range_end=prefix + b"s").gt(0)).then(Get(k)))
            assert ranged.succeeded
            ranged_no = await c.txn(Txn().when(Compare.value(prefix + b"r", range_end=prefix + b"s").eq(b"2")))
            assert not ranged_no.succeeded

            nested = await c.txn(Txn().then(Txn().when(Compare.value(k).eq(b"v2")).then(Put(other, b"n"), Get(other))))
            inner = nested.responses[0]
            assert isinstance(inner, TxnResponse) and inner.succeeded
            assert inner.responses[1].kvs[0].value == b"n"  # type: ignore[union-attr]

            with pytest.raises(DuplicateKeyError):
                await c.txn(Txn().then(Put(k, b"1"), Put(k, b"2")))
            with pytest.raises(TypeError):
                await c.txn(Txn().when(Compare.version(k).eq(b"x")))
            assert Txn().then(Get(k)).read_only and not Txn().then(Put(k)).read_only

    run(body())


def test_compaction_errors(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            r1 = await c.put(prefix + b"k", b"1")
            r2 = await c.put(prefix + b"k", b"2")
            await c.compact(r2.header.revision)
            with pytest.raises(CompactedError) as ei:
                await c.get(prefix + b"k", revision=r1.header.revision)
            assert ei.value.wire is not None and ei.value.wire.name == "Compacted"
            with pytest.raises(FutureRevisionError):
                await c.get(prefix + b"k", revision=r2.header.revision + 1000)
            with pytest.raises(CompactedError):
                await c.compact(r1.header.revision)
            with pytest.raises(EmptyKeyError):
                await c.put(b"", b"x")

    run(body())


def test_namespace_isolates_keys(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with (
            AsyncClient(endpoints=[endpoint]) as raw,
            AsyncClient(endpoints=[endpoint], namespace=prefix + b"ns/") as ns,
        ):
            await raw.put(prefix + b"outside", b"x")
            await ns.put(b"a", b"1", lease=0)
            await ns.put(b"b", b"2")
            assert (await raw.get(prefix + b"ns/a")).value == b"1"
            got = await ns.get(b"", from_key=True)
            assert [kv.key for kv in got.kvs] == [b"a", b"b"]
            pre = await ns.get(b"", prefix=True)
            assert [kv.key for kv in pre.kvs] == [b"a", b"b"]
            t = await ns.txn(Txn().when(Compare.value(b"a").eq(b"1")).then(Put(b"c", b"3", prev_kv=True), Get(b"c")))
            assert t.succeeded and t.responses[1].kvs[0].key == b"c"  # type: ignore[union-attr]
            d = await ns.delete(b"", from_key=True, prev_kv=True)
            assert d.deleted == 3 and {kv.key for kv in d.prev_kvs} == {b"a", b"b", b"c"}
            assert (await raw.get(prefix + b"outside")).value == b"x"

    run(body())
