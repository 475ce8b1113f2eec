"""Support for the watch conformance cases (no cases here).

:class:`WatchSession` is a Watch stream that sends requests one at a time,
reads a bounded number of responses with a timeout and records them normalised.

Responses that the server may legitimately order differently (several watchers
of one stream receiving the same revision; etcd iterates a Go map) are read
with ``unordered=True`` and recorded sorted by (header revision, watch id).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

import grpc

from etcdkit.api.pb import rpc_pb2 as pb

from .harness import Conn

_END = object()


class WatchSession:
    """One bidirectional Watch call driven from a case."""

    def __init__(self, c: Conn, *, timeout: float = 30.0) -> None:
        self.c = c
        self._requests: queue.Queue[Any] = queue.Queue()
        self._responses: queue.Queue[Any] = queue.Queue()
        self.call: Any = c.watch.Watch(self._feed(), timeout=timeout)
        self._reader = threading.Thread(target=self._read, name="watch-session-reader", daemon=True)
        self._reader.start()

    def _feed(self) -> Iterator[pb.WatchRequest]:
        while True:
            req = self._requests.get()
            if req is _END:
                return
            yield req

    def _read(self) -> None:
        try:
            for resp in self.call:
                self._responses.put(resp)
        except grpc.RpcError as err:
            self._responses.put(err)
        self._responses.put(_END)

    # --- requests ---------------------------------------------------------------
    def send(self, req: pb.WatchRequest) -> None:
        self._requests.put(req)

    def create(self, key: bytes, range_end: bytes = b"", **kw: Any) -> None:
        self.send(pb.WatchRequest(create_request=pb.WatchCreateRequest(key=key, range_end=range_end, **kw)))

    def cancel(self, watch_id: int) -> None:
        self.send(pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=watch_id)))

    def send_end(self) -> None:
        """Half-close: end the request stream (the call stays open)."""
        self._requests.put(_END)

    def progress(self) -> None:
        self.send(pb.WatchRequest(progress_request=pb.WatchProgressRequest()))

    # --- responses ----------------------------------------------------------------
    def next(self, timeout: float = 5.0) -> Any:
        """The next response, the stream's error, ``"end"`` or ``"timeout"``."""
        try:
            item = self._responses.get(timeout=timeout)
        except queue.Empty:
            return "timeout"
        if item is _END:
            self._responses.put(_END)  # sticky
            return "end"
        return item

    def read(self, n: int, label: str, *, unordered: bool = False, timeout: float = 5.0) -> list[Any]:
        """Read up to ``n`` responses (stopping at a timeout/end) and record them."""
        got = []
        for _ in range(n):
            item = self.next(timeout)
            got.append(item)
            if isinstance(item, str | grpc.RpcError):
                break
        if unordered:
            msgs = sorted((g for g in got if isinstance(g, pb.WatchResponse)), key=_order)
            got = msgs + [g for g in got if not isinstance(g, pb.WatchResponse)]
        self.c.record([self._summary(g) for g in got], label)
        return got

    def quiet(self, label: str, wait: float = 0.5) -> None:
        """Record that nothing arrives within ``wait`` seconds (or what did)."""
        item = self.next(wait)
        self.c.record(item if item == "timeout" else self._summary(item), label)

    def _summary(self, item: Any) -> Any:
        return self.c.normalise(item) if not isinstance(item, str) else item

    def close(self) -> None:
        """Half-close, cancel the call, and wait for the reader thread."""
        self._requests.put(_END)
        self.call.cancel()
        self._reader.join(timeout=10)

    def __enter__(self) -> WatchSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _order(r: pb.WatchResponse) -> tuple[int, int]:
    return (r.header.revision, r.watch_id)


def shape(c: Conn, resp: Any) -> Any:
    """A compact, normalised view of a large response: flags, event count, revision span."""
    if not isinstance(resp, pb.WatchResponse):
        return resp if isinstance(resp, str) else {"error": resp.code().name}
    revs = [c.rel(e.kv.mod_revision) for e in resp.events]
    return {
        "watch_id": resp.watch_id,
        "created": resp.created,
        "fragment": resp.fragment,
        "header_revision": c.rel(resp.header.revision),
        "events": len(resp.events),
        "prev_kvs": sum(e.HasField("prev_kv") for e in resp.events),
        "revs": [min(revs), max(revs)] if revs else None,
    }
