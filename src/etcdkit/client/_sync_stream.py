"""A deletion watch read in the calling thread, on the blocking client's transport.

Package-private: the blocking recipes wait for a key's deletion with it (the
blocking ``Lock`` waiting for its turn) without a hop through the client's
event-loop thread. It is not a general watch: it has no resume-on-failure,
no heartbeat and no event buffering. ``Client.watch`` is the watch for users.

Contract of ``DeletionWatch``:

* ``open(...)`` returns once the server confirmed the watch (``created``), so
  every deletion after that moment is reported; opening goes through
  ``Transport.call`` (endpoint failover, dial timeout, auth token and its
  refresh), as an idempotent call;
* the stream lives at most ``life`` seconds (gRPC deadline); ``next()`` then
  raises ``StreamExpired`` and ``reopen()`` continues from the revision after
  the last one seen, so no deletion is lost across the renewal;
* ``next()`` blocks for the next response and returns the keys it deleted
  (namespace stripped). Errors: a compaction cancel -> ``WatchCompactedError``;
  an auth refusal -> the mapped ``AuthError``; any other cancel, a broken
  stream or an invalid token mid-stream -> ``UnavailableError`` (transient:
  the caller reads again and opens a new watch); ``cancel()`` from another
  thread -> ``WatchCancelled``;
* ``cancel()`` is thread-safe and idempotent; ``close()`` cancels.
"""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import grpc

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import kv_pb2, rpc_pb2
from etcdkit.client._convert import Namespace
from etcdkit.client._sync_transport import SyncTransport, _Done, _SyncStubs, drive
from etcdkit.client._transport import Metadata, Stubs, map_rpc_error
from etcdkit.client.exceptions import (
    AuthError,
    EtcdError,
    UnavailableError,
    WatchCompactedError,
)
from etcdkit.client.server_errors import error_for_message

__all__ = ["DeletionWatch", "StreamExpired", "WatchCancelled"]

_NOPUT = rpc_pb2.WatchCreateRequest.FilterType.NOPUT
_DELETE = kv_pb2.Event.EventType.DELETE


class StreamExpired(EtcdError):
    """The stream reached the end of its ``life``; ``reopen()`` continues it without a gap."""


class WatchCancelled(EtcdError):
    """``cancel()`` ended the stream (from another thread)."""


class DeletionWatch:
    """Deletions of one key or one prefix, read in the calling thread. See the module docstring."""

    def __init__(self, transport: SyncTransport, ns: Namespace, key: bytes, *, prefix: bool) -> None:
        self._transport = transport
        self._ns = ns
        self._key = ns.key(key)
        self._range_end = ns.range_end(key, prefix_end(key)) if prefix else b""
        self._mutex = threading.Lock()
        self._call: Any = None  # the grpc stream-stream call (grpc's stubs are untyped here)
        self._stubs: _SyncStubs | None = None
        self._cancelled = False
        self._expires = 0.0  # time.monotonic() at which the current stream's deadline passes
        self.revision = 0  # every deletion up to this revision was reported

    @classmethod
    def open(cls, transport: SyncTransport, ns: Namespace, key: bytes, *, prefix: bool, life: float) -> DeletionWatch:
        w = cls(transport, ns, key, prefix=prefix)
        w._start(0, life)
        return w

    def reopen(self, life: float) -> None:
        """Continue after ``StreamExpired``: a new stream from ``revision + 1``."""
        self._start(self.revision + 1, life)

    def _start(self, start_revision: int, life: float) -> None:
        create = rpc_pb2.WatchCreateRequest(
            key=self._key, range_end=self._range_end, start_revision=start_revision, filters=[_NOPUT]
        )
        request = rpc_pb2.WatchRequest(create_request=create)
        expires = self._expires = time.monotonic() + life

        def fn(stubs: Stubs, _t: float | None, md: Metadata) -> _Done:
            if self._cancelled:
                raise WatchCancelled("watch cancelled")
            s = cast(_SyncStubs, stubs)
            # A one-item request iterator: the client half-closes after the create; etcd keeps
            # the watch open until the call ends (its deadline, or our cancel).
            call = s.watch_stream.Watch(iter((request,)), timeout=max(0.001, expires - time.monotonic()), metadata=md)
            with self._mutex:
                self._call, self._stubs = call, s
                cancelled = self._cancelled
            if cancelled:
                call.cancel()
            first: rpc_pb2.WatchResponse = next(cast(Any, call))  # grpc.RpcError -> mapped by Transport.call
            return _Done(first)

        try:
            first = cast(rpc_pb2.WatchResponse, drive(self._transport.call(fn, idempotent=True)))
        except EtcdError:
            if self._cancelled:
                raise WatchCancelled("watch cancelled") from None
            raise
        if first.canceled or not first.created:
            self.cancel()
            raise self._refused(first)
        if start_revision == 0:
            # The watch reports what comes after the revision it was created at. (A watch from a
            # past revision reports that history first: ``revision`` then stays where it was.)
            self.revision = max(self.revision, first.header.revision)

    def next(self) -> list[bytes]:
        """Block for the next response; the keys it deleted (maybe none). Errors: module docstring."""
        call, stubs = self._call, self._stubs
        assert call is not None and stubs is not None
        try:
            resp: rpc_pb2.WatchResponse = next(call)
        except StopIteration:
            raise UnavailableError("watch stream ended", stubs.endpoint) from None
        except grpc.RpcError as e:
            raise self._failed(e, stubs) from None
        if resp.canceled:
            self.cancel()
            raise self._refused(resp)
        events = resp.events
        if not events:
            return []
        # Events come in revision order, a revision whole: everything up to the last one is reported.
        # (Not the header's revision: a watch catching up on history may send the store's current
        # revision there before it has sent all the events up to it.)
        self.revision = max(self.revision, events[-1].kv.mod_revision)
        strip = self._ns.strip
        return [strip(e.kv.key) for e in events if e.type == _DELETE]

    def cancel(self) -> None:
        with self._mutex:
            self._cancelled = True
            call = self._call
        if call is not None:
            call.cancel()

    close = cancel

    def _failed(self, e: grpc.RpcError, stubs: _SyncStubs) -> EtcdError:
        code = e.code()
        if code is grpc.StatusCode.CANCELLED and self._cancelled:
            return WatchCancelled("watch cancelled")
        if code is grpc.StatusCode.DEADLINE_EXCEEDED or time.monotonic() >= self._expires:
            # (etcd may answer its own "context deadline exceeded", as UNKNOWN, before gRPC's.)
            return StreamExpired("watch stream reached its deadline")
        err = map_rpc_error(e, stubs.endpoint)
        if isinstance(err, UnavailableError):
            self._transport.call_unavailable(cast(Stubs, stubs))
            return err
        # An expired token, a server going away, a gRPC limit...: the caller reads again and
        # opens a new stream (the open refreshes the token).
        return UnavailableError(f"watch stream failed: {err}", stubs.endpoint)

    def _refused(self, r: rpc_pb2.WatchResponse) -> EtcdError:
        endpoint = self._stubs.endpoint if self._stubs is not None else ""
        if r.compact_revision > 0:
            return WatchCompactedError(r.compact_revision, self.revision + 1)
        err = error_for_message(r.cancel_reason, endpoint) if r.cancel_reason else None
        if isinstance(err, AuthError):
            return err  # no permission on the range: waiting again cannot fix it
        return UnavailableError(f"server cancelled the watch: {r.cancel_reason or 'no reason'}", endpoint)
