"""``lock`` and ``elect`` over the v3lock / v3election services, with a session lease kept alive.

Behaviour follows etcdctl 3.4: ``lock name`` prints the owner key (a ``get``)
and holds the lock until SIGINT/SIGTERM; ``lock name cmd...`` runs the command
with ``ETCD_LOCK_KEY``/``ETCD_LOCK_REV`` and releases the lock after it.
``elect name proposal`` campaigns and prints the leader key until signalled;
``elect -l name`` prints every leader change.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

from etcdkit.ctl._calls import JOIN_TIMEOUT, CallSet
from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_ERROR, CtlError

__all__ = ["elect", "lock"]


class _Session:
    """A lease granted with ``ttl`` and kept alive by a thread until ``close``; ``lost`` is set if it expires."""

    def __init__(self, ctx: Context, ttl: int) -> None:
        from etcdkit.api.pb import rpc_pb2

        self.conn = ctx.conn()
        self.lease = self.conn.unary("Lease", "LeaseGrant", rpc_pb2.LeaseGrantRequest(TTL=ttl)).ID
        self.stop = threading.Event()
        self.lost = threading.Event()
        self._calls = CallSet()
        self._thread = threading.Thread(target=self._keepalive, daemon=True)
        self._thread.start()

    def _keepalive(self) -> None:
        from etcdkit.ctl.commands.lease import keep_alive_stream

        try:
            for resp in keep_alive_stream(self.conn, self.lease, self.stop, self._calls):
                if resp.TTL <= 0:
                    break
        except Exception:
            pass
        if not self.stop.is_set():
            self.lost.set()

    def close(self) -> None:
        from etcdkit.api.pb import rpc_pb2

        self.stop.set()
        self._calls.cancel_all()
        self._thread.join(JOIN_TIMEOUT)
        with contextlib.suppress(Exception):
            self.conn.unary("Lease", "LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=self.lease))


class _Interrupted(Exception):
    pass


@contextlib.contextmanager
def _signals() -> Iterator[threading.Event]:
    """Turn SIGINT/SIGTERM into ``_Interrupted`` in the main thread (and set the returned event)."""
    ev = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        ev.set()
        raise _Interrupted

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield ev
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _wait_lost(session: _Session) -> None:
    while not session.lost.wait(0.5):
        pass


def lock(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2, v3lock_pb2

    if not ctx.args:
        raise CtlError(EXIT_BAD_ARGS, "lock takes a lock name argument and an optional command to execute")
    name = os.fsencode(ctx.args[0])
    conn = ctx.conn()
    with _signals():
        session = _Session(ctx, ctx.values["ttl"])
        key = b""
        try:
            resp = conn.unary("Lock", "Lock", v3lock_pb2.LockRequest(name=name, lease=session.lease), timeout=None)
            key = resp.key
            if len(ctx.args) > 1:
                env = {"ETCD_LOCK_KEY": key.decode("utf-8", "surrogateescape"),
                       "ETCD_LOCK_REV": str(resp.header.revision), **os.environ}
                try:
                    rc = subprocess.call(ctx.args[1:], env=env)
                except OSError as exc:
                    raise CtlError(EXIT_ERROR, f'exec: "{ctx.args[1]}": executable file not found in $PATH') from exc
                if rc != 0:
                    raise CtlError(EXIT_ERROR, f"exit status {rc}")
                return 0
            got = conn.unary("KV", "Range", rpc_pb2.RangeRequest(key=key))
            if not got.kvs:
                raise CtlError(EXIT_ERROR, "lock lost on init")
            ctx.print("get", got)
            _wait_lost(session)
            raise CtlError(EXIT_ERROR, "session expired")
        except _Interrupted:
            return 0
        finally:
            if key:
                with contextlib.suppress(Exception):
                    conn.unary("Lock", "Unlock", v3lock_pb2.UnlockRequest(key=key))
            session.close()


def elect(ctx: Context) -> int:
    if len(ctx.args) not in (1, 2):
        raise CtlError(EXIT_BAD_ARGS, "elect takes one election name argument and an optional proposal argument")
    listen = bool(ctx.values["listen"])
    if len(ctx.args) == 1 and not listen:
        raise CtlError(EXIT_BAD_ARGS, "no proposal argument but -l not set")
    if len(ctx.args) == 2 and listen:
        raise CtlError(EXIT_BAD_ARGS, "proposal given but -l is set")
    with _signals():
        try:
            if listen:
                _observe(ctx, os.fsencode(ctx.args[0]))
            else:
                _campaign(ctx, os.fsencode(ctx.args[0]), os.fsencode(ctx.args[1]))
        except _Interrupted:
            return 0
    return 0


def _observe(ctx: Context, name: bytes) -> None:
    from etcdkit.api.pb import rpc_pb2, v3election_pb2

    conn = ctx.conn()
    conn.authenticate()
    call = conn.stub("Election").Observe(v3election_pb2.LeaderRequest(name=name), metadata=conn.metadata or None)
    try:
        for resp in call:
            ctx.print("get", rpc_pb2.RangeResponse(header=resp.header, kvs=[resp.kv], count=1))
    finally:
        call.cancel()
    raise CtlError(EXIT_ERROR, "elect: observer lost")


def _campaign(ctx: Context, name: bytes, proposal: bytes) -> None:
    from etcdkit.api.pb import rpc_pb2, v3election_pb2

    conn = ctx.conn()
    session = _Session(ctx, 60)
    leader = None
    try:
        resp = conn.unary("Election", "Campaign",
                          v3election_pb2.CampaignRequest(name=name, lease=session.lease, value=proposal),
                          timeout=None)
        leader = resp.leader
        ctx.print("get", conn.unary("KV", "Range", rpc_pb2.RangeRequest(key=leader.key)))
        _wait_lost(session)
        raise CtlError(EXIT_ERROR, "elect: session expired")
    finally:
        if leader is not None:
            with contextlib.suppress(Exception):
                conn.unary("Election", "Resign", v3election_pb2.ResignRequest(leader=leader))
        session.close()
