"""``EtcdServer``: propose-and-wait for writes, local reads, status.

Write path (one member): a servicer validates, then ``propose`` wraps the
request in an ``InternalRequest`` with the next log index and parks a future.
When no batch is in flight, the proposal itself starts one: every pending
entry is appended to the WAL with one fdatasync (group commit, on the storage
thread: ``storage.iothread``); entries proposed meanwhile wait for the next
batch, started as soon as this one is applied. The batch is applied
in one LMDB write transaction on the loop thread (the
request objects proposed are applied as they are; only WAL replay parses
entries), records the batch's last index as applied in that same transaction,
commits, hands each revision's events to the watch hub, and only then
resolves the futures. Clustering will replace only the "append + fsync" step
with Raft replication.

Reads run on the loop thread against the latest committed LMDB state; with a
single member every acknowledged write is applied before it is acknowledged,
so such reads are linearizable.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from etcdkit import ETCD_VERSION
from etcdkit.api import errors
from etcdkit.api.pb import internal_pb2, kv_pb2, rpc_pb2
from etcdkit.server import failpoints
from etcdkit.server.auth import AuthInfo, AuthStore, SimpleTokens
from etcdkit.server.config import ServerConfig, cluster_id, member_id
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease import Lessor
from etcdkit.server.mvcc import MVCCStore, WriteTxn
from etcdkit.server.storage.backend import Backend
from etcdkit.server.storage.iothread import IOThread
from etcdkit.server.storage.wal import WAL, WALEntry
from etcdkit.server.txn import kv as txnkv
from etcdkit.server.txn import validate

__all__ = ["EtcdServer"]

log = logging.getLogger("etcdkit.server")
_U64 = struct.Struct(">Q")
_MASK64 = (1 << 64) - 1  # lease ids are int64 (etcd accepts negative ones); keys are their uint64 bits
InternalRequest = internal_pb2.InternalRequest
_R = TypeVar("_R")
MAX_PENDING_GAP = 5000
# A log entry with what waits for it: the future of a live proposal (None on replay) and the
# request object proposed (None on replay: parsed from the entry's bytes at apply).
_Item = tuple[WALEntry, "asyncio.Future[Any] | None", "internal_pb2.InternalRequest | None"]


class _LeaseView:
    """Adapts the lessor to what KV semantics need (``txn.kv.LeaseView``)."""

    def __init__(self, lessor: Lessor) -> None:
        self.lessor = lessor

    def exists(self, lease_id: int) -> bool:
        return self.lessor.lookup(lease_id) is not None

    def attach(self, lease_id: int, key: bytes) -> None:
        if self.lessor.lookup(lease_id) is not None:
            self.lessor.attach(lease_id, key)

    def detach(self, lease_id: int, key: bytes) -> None:
        if self.lessor.lookup(lease_id) is not None:
            self.lessor.detach(lease_id, key)


class EtcdServer:
    """One etcd member (single-member cluster). Owned by one asyncio loop."""

    def __init__(self, config: ServerConfig, hub: Any = None) -> None:
        self.config = config
        member_dir = config.data_dir / "member"
        self.backend = Backend(member_dir / "snap" / "db")
        self.store = MVCCStore(self.backend)
        self.wal = WAL(member_dir / "wal", fsync=not config.unsafe_no_fsync)
        self.member_id = member_id(config.peer_urls(), config.initial_cluster_token)
        self.cluster_id = cluster_id([self.member_id])
        # Each start is a new election term, as a restarted etcd member campaigns again.
        self.raft_term = max(self.store.term + 1, 2)
        self.lessor = Lessor(time.monotonic, min_ttl=config.min_lease_ttl)
        self._leases = _LeaseView(self.lessor)
        self.hub = hub
        self.auth = AuthStore(self.backend)
        self.tokens = SimpleTokens(time.monotonic, ttl=config.auth_token_ttl)
        self.alarms: set[tuple[int, int]] = set()
        self._next_index = max(self.wal.last_index, self.store.applied_index)
        self._pending: list[_Item] = []
        self._committing = False  # a batch is being appended or applied
        self._started = False
        self._io = IOThread("etcdkit-wal")  # WAL appends, checkpoints: one at a time, in order
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False
        self._last_checkpoint = self.store.applied_index
        self._last_checkpoint_time = time.monotonic()
        self._checkpointing = False
        self._rng = random.Random()
        self._size_in_use = self.backend.size_in_use()  # refreshed after each applied batch
        # Called with the seconds each WAL append + fdatasync took (the member feeds a histogram).
        self.on_wal_sync: Callable[[float], None] | None = None
        self._load_state()

    # -- lifecycle -----------------------------------------------------------
    def _load_state(self) -> None:
        with self.backend.begin() as txn:
            for _raw_id, raw in txn.cursor(db=self.backend.table(b"lease")):
                rec = internal_pb2.LeaseRecord()
                rec.ParseFromString(raw)
                self.lessor.grant(rec.ID, rec.TTL, remaining_ttl=rec.RemainingTTL)
            for p in self.store.iter_live(txn, b"\x00", b"\x00", self.store.current_revision()):
                kv = self.store.fetch(txn, p)
                if kv.lease:
                    self._leases.attach(kv.lease, kv.key)
            for raw_key, _ in txn.cursor(db=self.backend.table(b"alarm")):
                mid, alarm = struct.unpack(">QI", raw_key)
                self.alarms.add((mid, alarm))
        # Replay what the WAL holds beyond the last applied entry (crash recovery).
        unapplied = self.wal.take_unapplied(self.store.applied_index)
        if unapplied:
            log.info("replaying %d WAL entries", len(unapplied))
            self._apply_batch([(e, None, None) for e in unapplied])
        self.lessor.promote(self.config.election_timeout_ms / 1000)

    async def start(self) -> None:
        self._started = True
        self._commit_next()

    def add_task(self, coro: Any, name: str) -> None:
        """Run a background task for the server's lifetime (cancelled on stop)."""
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def stop(self) -> None:
        self._stopped = True
        self._started = False  # a batch in flight is failed, not applied, when its append returns
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        for _, fut, _req in self._pending:
            if fut is not None and not fut.done():
                fut.set_exception(EtcdServerError(errors.STOPPED))
        self._pending.clear()
        self._io.shutdown()
        self.wal.close()
        self.backend.close()

    # -- headers and status ------------------------------------------------
    def header(self, revision: int | None = None) -> rpc_pb2.ResponseHeader:
        return rpc_pb2.ResponseHeader(
            cluster_id=self.cluster_id,
            member_id=self.member_id,
            revision=self.store.current_revision() if revision is None else revision,
            raft_term=self.raft_term,
        )

    def fill(self, resp: _R) -> _R:
        """Fill a response header the way etcd does (revision kept if already set)."""
        h = resp.header  # type: ignore[attr-defined]
        h.cluster_id = self.cluster_id
        h.member_id = self.member_id
        h.raft_term = self.raft_term
        if h.revision == 0:
            h.revision = self.store.current_revision()
        return resp

    def current_revision(self) -> int:
        return self.store.current_revision()

    def compact_revision(self) -> int:
        """The last compaction revision, 0 if never compacted (EventSource contract)."""
        return max(0, self.store.compact_revision())

    def status(self) -> rpc_pb2.StatusResponse:
        resp = rpc_pb2.StatusResponse(
            version=ETCD_VERSION,
            dbSize=self.backend.size(),
            leader=self.member_id,
            raftIndex=self._next_index,
            raftTerm=self.raft_term,
            raftAppliedIndex=self.store.applied_index,
            dbSizeInUse=self.backend.size_in_use(),
            isLearner=False,
        )
        for _, alarm in sorted(self.alarms):
            resp.errors.append(f"memberID:{self.member_id} alarm:{rpc_pb2.AlarmType.Name(alarm)} ")  # type: ignore[arg-type]
        return self.fill(resp)

    # -- auth ----------------------------------------------------------------
    def auth_info(self, metadata: Any) -> AuthInfo | None:
        """Who sent a request, from its gRPC metadata (``token`` or ``authorization``).

        None when auth is disabled (no checks); a user-less AuthInfo when no token
        was sent; raises ``invalid auth token`` for an unknown or expired token.
        """
        if not self.auth.enabled:
            return None
        token = ""
        for key, value in metadata or ():
            if key in ("token", "authorization"):
                token = value.removeprefix("Bearer ") if isinstance(value, str) else ""
                break
        if not token:
            return AuthInfo("", 0)
        user = self.tokens.user_of(token)
        if user is None:
            raise EtcdServerError(errors.INVALID_AUTH_TOKEN)
        return AuthInfo(user, self.auth.revision)

    def who(self, context: Any) -> AuthInfo | None:
        """``auth_info`` of a servicer context; free when auth is disabled."""
        return self.auth_info(context.invocation_metadata()) if self.auth.enabled else None

    def _check_txn_auth(self, info: AuthInfo | None, r: rpc_pb2.TxnRequest) -> None:
        for c in r.compare:
            self.auth.check_range(info, c.key, c.range_end, write=False)
        for op in (*r.success, *r.failure):
            which = op.WhichOneof("request")
            if which == "request_range":
                self.auth.check_range(info, op.request_range.key, op.request_range.range_end, write=False)
            elif which == "request_put":
                self._check_put_auth(info, op.request_put)
            elif which == "request_delete_range":
                d = op.request_delete_range
                self.auth.check_range(info, d.key, d.range_end, write=True)
                if d.prev_kv:
                    self.auth.check_range(info, d.key, d.range_end, write=False)
            elif which == "request_txn":
                self._check_txn_auth(info, op.request_txn)

    def _check_put_auth(self, info: AuthInfo | None, r: rpc_pb2.PutRequest) -> None:
        self.auth.check_range(info, r.key, b"", write=True)
        if r.prev_kv:
            self.auth.check_range(info, r.key, b"", write=False)
        lease = self.lessor.lookup(r.lease) if r.lease else None
        for key in sorted(lease.keys) if lease is not None else ():
            self.auth.check_range(info, key, b"", write=True)

    async def authenticate(self, r: rpc_pb2.AuthenticateRequest) -> rpc_pb2.AuthenticateResponse:
        if not self.auth.enabled:
            raise EtcdServerError(errors.AUTH_NOT_ENABLED)
        loop = asyncio.get_running_loop()
        ok = await loop.run_in_executor(None, self.auth.check_password, r.name, r.password)
        if not ok:
            raise EtcdServerError(errors.AUTH_FAILED)
        return self.fill(rpc_pb2.AuthenticateResponse(token=self.tokens.assign(r.name, self._next_index)))

    async def auth_change(self, info: AuthInfo | None, req: internal_pb2.InternalRequest) -> Any:
        """Propose an auth management request (root only once auth is enabled)."""
        # Once auth is on, every change (re-enabling included) needs root, as in etcd.
        if req.WhichOneof("request") != "auth_enable" or self.auth.enabled:
            self.auth.check_admin(info)
        resp = await self.propose(req)
        return self.fill(resp)

    # -- reads ---------------------------------------------------------------
    async def range(self, r: rpc_pb2.RangeRequest, auth: AuthInfo | None = None) -> rpc_pb2.RangeResponse:
        validate.check_range(r)
        self.auth.check_range(auth, r.key, r.range_end, write=False)
        with self.backend.begin() as txn:
            resp = txnkv.apply_range(self.store, txn, r, self.store.current_revision())
        return self.fill(resp)

    def read_events(
        self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int
    ) -> list[kv_pb2.Event]:
        """History for the watch hub (see the EventSource protocol)."""
        with self.backend.begin() as txn:
            return self.store.read_events(txn, key, range_end, start_rev, end_rev, max_events)

    def hash_kv(self, rev: int) -> rpc_pb2.HashKVResponse:
        cur = self.store.current_revision()
        if rev > cur:
            raise EtcdServerError(errors.FUTURE_REV)
        if 0 < rev <= self.store.compact_revision():  # etcd: hashing at the compact revision is refused too
            raise EtcdServerError(errors.COMPACTED)
        with self.backend.begin() as txn:
            h = self.store.hash_kv(txn, rev if rev > 0 else cur)
        # etcd reports -1 until the first compaction (its compactMainRev starts at -1).
        compact = self.store.compact_revision()
        return self.fill(rpc_pb2.HashKVResponse(hash=h, compact_revision=compact))

    def hash(self) -> rpc_pb2.HashResponse:
        with self.backend.begin() as txn:
            return self.fill(rpc_pb2.HashResponse(hash=self.store.hash_all(txn)))

    # -- writes ---------------------------------------------------------------
    async def put(self, r: rpc_pb2.PutRequest, auth: AuthInfo | None = None) -> rpc_pb2.PutResponse:
        validate.check_put(r)
        self._check_put_auth(auth, r)
        self._check_quota(len(r.key) + len(r.value))
        resp: rpc_pb2.PutResponse = await self.propose(InternalRequest(put=r))
        return self.fill(resp)

    async def delete_range(
        self, r: rpc_pb2.DeleteRangeRequest, auth: AuthInfo | None = None
    ) -> rpc_pb2.DeleteRangeResponse:
        validate.check_delete(r)
        self.auth.check_range(auth, r.key, r.range_end, write=True)
        if r.prev_kv:
            self.auth.check_range(auth, r.key, r.range_end, write=False)
        resp: rpc_pb2.DeleteRangeResponse = await self.propose(InternalRequest(delete_range=r))
        return self.fill(resp)

    async def txn(self, r: rpc_pb2.TxnRequest, auth: AuthInfo | None = None) -> rpc_pb2.TxnResponse:
        validate.check_txn(r, self.config.max_txn_ops)
        self._check_txn_auth(auth, r)
        if txnkv.is_txn_readonly(r):
            with self.backend.begin() as txn:
                w = WriteTxn(self.store, txn)
                resp = txnkv.apply_txn(self.store, w, r, self._leases)
            return self.fill(resp)
        self._check_quota(r.ByteSize())
        resp = await self.propose(InternalRequest(txn=r))
        assert isinstance(resp, rpc_pb2.TxnResponse)
        return self.fill(resp)

    async def compact(self, r: rpc_pb2.CompactionRequest) -> rpc_pb2.CompactionResponse:
        resp: rpc_pb2.CompactionResponse = await self.propose(InternalRequest(compaction=r))
        if r.physical:
            await self._io.submit(self.backend.checkpoint)
        return self.fill(resp)

    async def lease_grant(self, r: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse:
        if r.TTL > 9_000_000_000:
            raise EtcdServerError(errors.LEASE_TTL_TOO_LARGE)
        self._check_quota(16)
        req = InternalRequest(lease_grant=r)  # a copy: the caller's request stays as sent
        if r.ID == 0:
            req.lease_grant.ID = self._new_lease_id()
        resp: rpc_pb2.LeaseGrantResponse = await self.propose(req)
        return self.fill(resp)

    async def lease_revoke(self, r: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse:
        resp: rpc_pb2.LeaseRevokeResponse = await self.propose(InternalRequest(lease_revoke=r))
        return self.fill(resp)

    async def alarm(self, r: rpc_pb2.AlarmRequest) -> rpc_pb2.AlarmResponse:
        """As etcd 3.4, the response carries no header (and no permission is checked)."""
        resp: rpc_pb2.AlarmResponse = await self.propose(InternalRequest(alarm=r))
        return resp

    def _new_lease_id(self) -> int:
        while True:
            lid = self._rng.getrandbits(63)
            if lid and self.lessor.lookup(lid) is None:
                return lid

    def _check_quota(self, cost: int) -> None:
        quota = self.config.quota_bytes
        if quota < 0:
            return
        if self._size_in_use + cost > quota:
            if (self.member_id, rpc_pb2.NOSPACE) not in self.alarms:
                req = rpc_pb2.AlarmRequest(action=rpc_pb2.AlarmRequest.ACTIVATE, memberID=self.member_id,
                                           alarm=rpc_pb2.NOSPACE)
                self._propose_nowait(InternalRequest(alarm=req))
            raise EtcdServerError(errors.NO_SPACE)

    # -- the log -------------------------------------------------------------
    def _propose_nowait(self, req: internal_pb2.InternalRequest) -> asyncio.Future[Any]:
        if self._stopped:
            raise EtcdServerError(errors.STOPPED)
        if self._next_index - self.store.applied_index > MAX_PENDING_GAP:
            raise EtcdServerError(errors.TOO_MANY_REQUESTS)
        self._next_index += 1
        req.id = self._next_index
        data = req.SerializeToString()
        if len(data) > self.config.max_request_bytes:
            self._next_index -= 1
            raise EtcdServerError(errors.REQUEST_TOO_LARGE)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((WALEntry(self._next_index, self.raft_term, data), fut, req))
        if not self._committing:
            self._commit_next()
        return fut

    async def propose(self, req: internal_pb2.InternalRequest) -> Any:
        """Append ``req`` to the log, wait until it is durable and applied; return its response.

        ``req`` itself (not a copy) is what gets applied: the caller must not change it
        until this returns (every caller builds a fresh ``InternalRequest``)."""
        return await self._propose_nowait(req)

    def _commit_next(self) -> None:
        """Start the group commit of every pending entry (loop thread; one batch at a time)."""
        if self._committing or not self._started or not self._pending:
            return
        batch, self._pending = self._pending, []
        self._committing = True
        self._io.call(functools.partial(self._appended, batch), self._append, [item[0] for item in batch])

    def _appended(self, batch: list[_Item], _result: object, exc: BaseException | None) -> None:
        """The WAL append of ``batch`` returned (loop thread): apply it, answer, start the next."""
        self._committing = False
        if not self._started:  # stopping: durable but not applied; replayed at the next start
            _fail(batch)
            return
        if exc is not None:  # the disk failed: nothing of this batch is acknowledged
            log.error("WAL append failed: %s", exc)
            _fail(batch)
            if not isinstance(exc, OSError):  # not an I/O error: a bug; stop taking writes
                self._stopped = True
                return
            self._commit_next()
            return
        failpoints.hit("walAfterAppend")
        try:
            self._apply_batch(batch)
        except Exception:
            # A bug in apply: the batch's LMDB txn was aborted. Like etcd (which panics),
            # stop taking writes rather than serve a state that may diverge from the log;
            # the entries are in the WAL and are applied again on restart.
            log.exception("apply failed; member stops accepting writes")
            self._stopped = True
            _fail(batch)
            return
        self._maybe_checkpoint()
        self._commit_next()

    def _append(self, entries: list[WALEntry]) -> None:
        start = time.perf_counter()
        self.wal.append(entries)
        if self.on_wal_sync is not None:
            self.on_wal_sync(time.perf_counter() - start)

    def _maybe_checkpoint(self) -> None:
        applied = self.store.applied_index
        due = applied - self._last_checkpoint >= self.config.checkpoint_entries or (
            applied > self._last_checkpoint
            and time.monotonic() - self._last_checkpoint_time >= self.config.checkpoint_interval
        )
        if not due or self._checkpointing:
            return
        self._checkpointing = True

        def work() -> None:
            self.backend.checkpoint()
            self.wal.release(applied)

        def done(_: Any) -> None:
            self._checkpointing = False
            self._last_checkpoint = applied
            self._last_checkpoint_time = time.monotonic()

        self._io.submit(work).add_done_callback(done)

    # -- apply -----------------------------------------------------------------
    def _apply_batch(self, batch: Sequence[_Item]) -> None:
        results: list[tuple[asyncio.Future[Any] | None, Any]] = []
        notifications: list[tuple[int, list[kv_pb2.Event]]] = []
        with self.backend.begin(write=True) as txn:
            for entry, fut, req in batch:
                if req is None:  # replay: only the bytes survived
                    req = InternalRequest()
                    req.ParseFromString(entry.data)
                w = self.store.write(txn)
                try:
                    result: Any = self._apply_one(txn, w, req)
                except EtcdServerError as exc:
                    result = exc
                rev, events = w.end()
                if events:
                    notifications.append((rev, events))
                results.append((fut, result))
            last = batch[-1][0]
            self.store.set_applied(txn, last.index, last.term)  # the whole batch, in its own txn
        self._size_in_use = self.backend.size_in_use()
        failpoints.hit("applyAfterCommit")
        if self.hub is not None:
            for rev, events in notifications:
                self.hub.notify(rev, events)
        for fut, result in results:
            if fut is None or fut.done():
                continue
            if isinstance(result, EtcdServerError):
                fut.set_exception(result)
            else:
                fut.set_result(result)

    def _nospace(self) -> bool:
        return any(a == rpc_pb2.NOSPACE for _, a in self.alarms)

    def _apply_one(self, txn: Any, w: WriteTxn, req: internal_pb2.InternalRequest) -> Any:
        which = req.WhichOneof("request")
        if which == "put":
            if self._nospace():
                raise EtcdServerError(errors.NO_SPACE)
            return txnkv.apply_put(w, req.put, self._leases)
        if which == "delete_range":
            return txnkv.apply_delete_range(w, req.delete_range, self._leases)
        if which == "txn":
            if self._nospace() and not _txn_is_delete_only(req.txn):
                raise EtcdServerError(errors.NO_SPACE)
            return txnkv.apply_txn(self.store, w, req.txn, self._leases)
        if which == "compaction":
            return self._apply_compaction(txn, req.compaction)
        if which == "lease_grant":
            return self._apply_lease_grant(txn, req.lease_grant)
        if which == "lease_revoke":
            return self._apply_lease_revoke(txn, w, req.lease_revoke)
        if which == "alarm":
            return self._apply_alarm(txn, req.alarm)
        if which is not None and which.startswith("auth_"):
            resp = self.auth.apply(txn, req)
            if which in ("auth_user_delete", "auth_user_change_password"):
                self.tokens.invalidate_user(getattr(req, which).name)
            elif which == "auth_disable":
                self.tokens.clear()
            return resp
        raise EtcdServerError(errors.NOT_CAPABLE)

    def _apply_compaction(self, txn: Any, r: rpc_pb2.CompactionRequest) -> rpc_pb2.CompactionResponse:
        if r.revision > self.store.current_revision():
            raise EtcdServerError(errors.FUTURE_REV)
        if r.revision <= self.store.compact_revision():
            raise EtcdServerError(errors.COMPACTED)
        self.store.compact(txn, r.revision)
        if self.hub is not None:
            self.hub.on_compact(r.revision)
        resp = rpc_pb2.CompactionResponse()
        resp.header.revision = self.store.current_revision()
        return resp

    def _apply_lease_grant(self, txn: Any, r: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse:
        if self._nospace():
            raise EtcdServerError(errors.NO_SPACE)
        lease = self.lessor.grant(r.ID, r.TTL)
        rec = internal_pb2.LeaseRecord(ID=lease.id, TTL=lease.ttl)
        txn.put(_U64.pack(lease.id & _MASK64), rec.SerializeToString(), db=self.backend.table(b"lease"))
        return rpc_pb2.LeaseGrantResponse(ID=lease.id, TTL=lease.ttl)

    def _apply_lease_revoke(self, txn: Any, w: WriteTxn, r: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse:
        keys = self.lessor.revoke(r.ID)
        for key in sorted(keys):
            w.delete_range(key, b"")
        txn.delete(_U64.pack(r.ID & _MASK64), db=self.backend.table(b"lease"))
        return rpc_pb2.LeaseRevokeResponse()

    def _apply_alarm(self, txn: Any, r: rpc_pb2.AlarmRequest) -> rpc_pb2.AlarmResponse:
        resp = rpc_pb2.AlarmResponse()
        table = self.backend.table(b"alarm")
        item = (r.memberID, int(r.alarm))
        if r.action == rpc_pb2.AlarmRequest.GET:
            for mid, alarm in sorted(self.alarms):
                if r.alarm in (rpc_pb2.NONE, alarm):
                    resp.alarms.add(memberID=mid, alarm=alarm)  # type: ignore[arg-type,unused-ignore]
        elif r.action == rpc_pb2.AlarmRequest.ACTIVATE:
            if r.alarm != rpc_pb2.NONE and item not in self.alarms:
                self.alarms.add(item)
                txn.put(struct.pack(">QI", *item), b"", db=table)
            resp.alarms.add(memberID=r.memberID, alarm=r.alarm)  # etcd lists it even if already active
        elif r.action == rpc_pb2.AlarmRequest.DEACTIVATE and item in self.alarms:
            self.alarms.discard(item)
            txn.delete(struct.pack(">QI", *item), db=table)
            resp.alarms.add(memberID=r.memberID, alarm=r.alarm)
        return resp

    # -- maintenance ----------------------------------------------------------
    def defragment(self) -> None:
        """Compacting copy of the backend; blocks the member while it runs, as in etcd."""
        self.backend.defragment()
        # LMDB table handles belong to the old environment: rebuild what holds them.
        self.store = MVCCStore(self.backend)
        self.auth = AuthStore(self.backend)


def _fail(batch: list[_Item]) -> None:
    for _, fut, _req in batch:
        if fut is not None and not fut.done():
            fut.set_exception(EtcdServerError(errors.STOPPED))


def _txn_is_delete_only(r: rpc_pb2.TxnRequest) -> bool:
    for op in (*r.success, *r.failure):
        which = op.WhichOneof("request")
        if which == "request_put":
            return False
        if which == "request_txn" and not _txn_is_delete_only(op.request_txn):
            return False
    return True
