"""Lease, cluster, maintenance and auth calls against a live server."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from etcdkit.client import (
    AsyncClient,
    AuthFailedError,
    AuthNotEnabledError,
    ConnectionState,
    LearnerNotReadyError,
    LeaseKeepAliveLostError,
    MemberNotFoundError,
    NotCapableError,
    Permission,
    PermissionDeniedError,
    PermissionType,
    RoleNotFoundError,
    SnapshotIntegrityError,
    UnknownServerError,
    UserAlreadyExistError,
)
from etcdkit.testing import ServerProcess
from tests.client.conftest import run


def test_lease_calls_and_keeper(endpoint: str, prefix: bytes) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            g = await c.lease_grant(2)
            assert g.ttl == 2 and g.id != 0
            await c.put(prefix + b"k", b"v", lease=g.id)
            ttl = await c.lease_time_to_live(g.id, keys=True)
            assert ttl.granted_ttl == 2 and 0 < ttl.ttl <= 2 and ttl.keys == (prefix + b"k",)
            assert g.id in await c.leases()
            keeper = await c.keep_alive(g.id, g.ttl)
            # Outlive the TTL twice over: the key must still be there.
            for _ in range(40):
                if keeper.renewals >= 4:
                    break
                await asyncio.sleep(0.25)
            assert keeper.renewals >= 4 and keeper.alive
            assert (await c.get(prefix + b"k")).value == b"v"
            lost: list[LeaseKeepAliveLostError] = []
            keeper2 = await c.keep_alive(g.id, g.ttl, on_lost=lost.append)
            await keeper.close()
            await c.lease_revoke(g.id)
            err = await asyncio.wait_for(keeper2.wait_lost(), 10)
            assert err.lease_id == g.id and lost == [err] and not keeper2.alive
            assert (await c.lease_time_to_live(g.id)).ttl == -1
            assert (await c.get(prefix + b"k")).kvs == ()
            fixed = await c.lease_grant(30, lease_id=0x7E57_0000 + len(prefix))
            assert fixed.id == 0x7E57_0000 + len(prefix)
            await c.lease_revoke(fixed.id)

    run(body())


def test_cluster_calls(endpoint: str, target: str) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            ml = await c.member_list()
            assert len(ml.members) == 1
            me = ml.members[0]
            assert f"http://{endpoint}" in me.client_urls and not me.is_learner
            if target == "etcdkit":  # a single member until Raft lands: changes are refused, typed
                with pytest.raises(NotCapableError):
                    await c.member_add(["http://127.0.0.1:1"], is_learner=True)
                with pytest.raises(NotCapableError):
                    await c.member_update(me.id, ["http://127.0.0.1:2"])
                with pytest.raises(MemberNotFoundError):
                    await c.member_remove(1234)
                return
            added = await c.member_add(["http://127.0.0.1:1"], is_learner=True)
            assert added.member is not None and added.member.is_learner
            assert len(added.members) == 2
            with pytest.raises(LearnerNotReadyError):
                await c.member_promote(added.member.id)
            await c.member_update(added.member.id, ["http://127.0.0.1:2"])
            ml2 = await c.member_list(linearizable=True)
            assert {m.id: m.peer_urls for m in ml2.members}[added.member.id] == ("http://127.0.0.1:2",)
            rm = await c.member_remove(added.member.id)
            assert [m.id for m in rm.members] == [me.id]
            with pytest.raises(MemberNotFoundError):
                await c.member_remove(added.member.id)

    run(body())


def test_maintenance_calls(endpoint: str, prefix: bytes, tmp_path: Path) -> None:
    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            await c.put(prefix + b"k", b"v")
            st = await c.status()
            assert st.leader == st.header.member_id and st.db_size > 0 and st.version
            assert (await c.status(endpoint)).header.member_id == st.header.member_id
            h1 = await c.hash_kv()
            h2 = await c.hash_kv(endpoint=endpoint)
            assert h1.hash == h2.hash
            await c.defragment()
            assert await c.alarms() == ()
            assert await c.alarm_disarm() == ()
            await c.move_leader(st.leader)  # already the leader: a no-op
            size = await c.snapshot(tmp_path / "snap.db")
            data = (tmp_path / "snap.db").read_bytes()
            assert size == len(data) > 0 and not (tmp_path / "snap.db.part").exists()
            assert data[:0] == b"" and len(data) % 4096 == 0  # a bbolt file is whole pages

    run(body())


def test_snapshot_trailer_mismatch(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_sha256 = hashlib.sha256

    class BadHash:
        def __init__(self) -> None:
            self._h = real_sha256()

        def update(self, data: bytes) -> None:
            self._h.update(data + b"x")

        def digest(self) -> bytes:
            return self._h.digest()

    async def body() -> None:
        async with AsyncClient(endpoints=[endpoint]) as c:
            monkeypatch.setattr("etcdkit.client._admin.hashlib.sha256", BadHash)
            with pytest.raises(SnapshotIntegrityError):
                await c.snapshot(tmp_path / "bad.db")
            assert not (tmp_path / "bad.db").exists() and not (tmp_path / "bad.db.part").exists()

    run(body())


def test_auth_management_and_token_client(make_server: object) -> None:
    srv: ServerProcess = make_server()  # type: ignore[operator]

    async def auth_enabled(c: AsyncClient) -> bool | None:
        # AuthStatus exists since etcd 3.5; 3.4 answers UNIMPLEMENTED.
        try:
            return (await c.auth_status()).enabled
        except UnknownServerError as e:
            assert e.code == "UNIMPLEMENTED" and (await c.status()).version.startswith("3.4")
            return None

    async def body() -> None:
        async with AsyncClient(endpoints=[srv.endpoint]) as root:
            assert await auth_enabled(root) in (False, None)
            with pytest.raises(AuthNotEnabledError):
                await root.authenticate("root", "pw")
            await root.user_add("root", "rootpw")
            await root.role_add("root")
            await root.user_grant_role("root", "root")
            await root.user_add("alice", "apw")
            with pytest.raises(UserAlreadyExistError):
                await root.user_add("alice", "x")
            await root.role_add("reader")
            await root.role_grant_permission("reader", Permission(PermissionType.READWRITE, b"/a/", b"/a0"))
            await root.user_grant_role("alice", "reader")
            assert await root.user_get("alice") == ("reader",)
            assert set(await root.user_list()) == {"root", "alice"}
            assert set(await root.role_list()) == {"root", "reader"}
            assert await root.role_get("reader") == (Permission(PermissionType.READWRITE, b"/a/", b"/a0"),)
            with pytest.raises(RoleNotFoundError):
                await root.role_get("nope")
            await root.auth_enable()

        async with AsyncClient(endpoints=[srv.endpoint], username="alice", password="apw") as alice:
            await alice.put(b"/a/x", b"1")
            assert (await alice.get(b"/a/x")).value == b"1"
            with pytest.raises(PermissionDeniedError):
                await alice.put(b"/b/x", b"1")
            # Simulate token expiry: the client must re-authenticate on "invalid auth token".
            alice._transport._tokens[srv.endpoint] = "expired.token"
            assert (await alice.get(b"/a/x")).value == b"1"
            w = await alice.watch(b"/a/", prefix=True)
            await alice.put(b"/a/y", b"2")
            batch = await asyncio.wait_for(w.__anext__(), 10)
            assert batch.events[0].kv.key == b"/a/y"
            await w.close()
            assert alice.state is ConnectionState.CONNECTED

        with pytest.raises(AuthFailedError):
            async with AsyncClient(endpoints=[srv.endpoint], username="alice", password="wrong") as bad:
                await bad.get(b"/a/x")

        async with AsyncClient(endpoints=[srv.endpoint], username="root", password="rootpw") as root:
            assert await auth_enabled(root) in (True, None)
            await root.user_change_password("alice", "apw2")
            await root.user_revoke_role("alice", "reader")
            await root.role_revoke_permission("reader", b"/a/", b"/a0")
            assert await root.role_get("reader") == ()
            await root.role_delete("reader")
            await root.user_delete("alice")
            await root.auth_disable()
            assert await auth_enabled(root) in (False, None)
            await root.put(b"/open", b"no auth needed now")

    run(body())
