"""Wire encoding of watch responses, done once per event for all its watchers.

A ``WatchResponse`` with events is ``header(1) watch_id(2) fragment(7)
events(11)*``. Protobuf fields may be concatenated, so the events part is
encoded once per event (and per ``prev_kv`` variant) and shared by every
watcher that receives it; only the few bytes of header and watch id differ
per response. Control responses (created, canceled, progress) are rare and
use the generated message class.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from etcdkit.api.pb import kv_pb2, rpc_pb2

__all__ = [
    "EncodedEvent",
    "EventBatch",
    "control_response",
    "events_responses",
    "header_field",
    "varint",
    "watch_id_field",
]

_DELETE = kv_pb2.Event.DELETE
_FRAGMENT = b"\x38\x01"  # field 7, varint true


def varint(n: int) -> bytes:
    """Protobuf base-128 varint; negative int64 values use ten bytes (two's complement)."""
    n &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


@functools.lru_cache(maxsize=4096)
def watch_id_field(watch_id: int) -> bytes:
    """Field 2 (watch_id) of a WatchResponse; empty for 0 (the proto3 default)."""
    return b"\x10" + varint(watch_id) if watch_id else b""


def _ld(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field."""
    return tag + varint(len(payload)) + payload


def header_field(header: rpc_pb2.ResponseHeader) -> bytes:
    """Field 1 (header) of a WatchResponse, ready to prefix a response."""
    return _ld(b"\x0a", header.SerializeToString())


class EncodedEvent:
    """One event and its field-11 encodings, built lazily and at most once each."""

    __slots__ = ("_with_prev", "_without_prev", "event")

    def __init__(self, event: kv_pb2.Event) -> None:
        self.event = event
        self._with_prev: bytes | None = None
        self._without_prev: bytes | None = None

    @property
    def revision(self) -> int:
        return int(self.event.kv.mod_revision)

    @property
    def is_put(self) -> bool:
        return bool(self.event.type != _DELETE)

    def field(self, prev_kv: bool) -> bytes:
        """The ``events`` field entry, with ``prev_kv`` only if asked and present."""
        ev = self.event
        if prev_kv and ev.HasField("prev_kv"):
            if self._with_prev is None:
                self._with_prev = _ld(b"\x5a", ev.SerializeToString())
            return self._with_prev
        if self._without_prev is None:
            body = _ld(b"\x12", ev.kv.SerializeToString())
            if ev.type == _DELETE:
                body = b"\x08\x01" + body
            self._without_prev = _ld(b"\x5a", body)
        return self._without_prev


class EventBatch:
    """The events of one response (whole revisions), shared by watchers."""

    __slots__ = ("_joined", "events", "size")

    def __init__(self, events: Sequence[EncodedEvent]) -> None:
        self.events = events
        self.size = len(events)  # len(), without a Python-level call on the hot path
        self._joined: list[bytes | None] = [None, None]

    def __len__(self) -> int:
        return self.size

    def fields(self, prev_kv: bool) -> list[bytes]:
        return [e.field(prev_kv) for e in self.events]

    def body(self, prev_kv: bool) -> bytes:
        """All events, encoded; cached per variant."""
        joined = self._joined[prev_kv]
        if joined is None:
            joined = self._joined[prev_kv] = b"".join(self.fields(prev_kv))
        return joined


def events_responses(
    header: bytes, watch_id: int, batch: EventBatch, prev_kv: bool, fragment_limit: int | None
) -> list[bytes]:
    """Encode ``batch`` for one watcher as one response, or as fragments.

    Fragmenting mirrors etcd: only when ``fragment_limit`` is given, the whole
    response is at least that big and holds two or more events; each fragment
    grows until adding one more event would reach the limit, all but the last
    carry ``fragment=true``.
    """
    prefix = header + watch_id_field(watch_id)
    if fragment_limit is None or len(batch) < 2:
        return [prefix + batch.body(prev_kv)]
    fields = batch.fields(prev_kv)
    if len(prefix) + sum(map(len, fields)) < fragment_limit:
        return [prefix + batch.body(prev_kv)]
    out: list[bytes] = []
    n, idx = len(fields), 0
    while True:
        start, size = idx, len(prefix) + len(_FRAGMENT)
        while idx < n:
            size += len(fields[idx])
            if idx > start and size >= fragment_limit:
                break
            idx += 1
        last = idx == n
        out.append(prefix + (b"" if last else _FRAGMENT) + b"".join(fields[start:idx]))
        if last:
            return out


def control_response(
    header: rpc_pb2.ResponseHeader,
    watch_id: int,
    *,
    created: bool = False,
    canceled: bool = False,
    compact_revision: int = 0,
    cancel_reason: str = "",
) -> bytes:
    """A created / canceled / progress response, encoded."""
    return rpc_pb2.WatchResponse(
        header=header,
        watch_id=watch_id,
        created=created,
        canceled=canceled,
        compact_revision=compact_revision,
        cancel_reason=cancel_reason,
    ).SerializeToString()
