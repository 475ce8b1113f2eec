"""Turns queued hub items into WatchResponse bytes (used by the servicer and tests)."""

from __future__ import annotations

from collections.abc import Callable

from etcdkit.api.pb import rpc_pb2

from .codec import control_response, events_responses, header_field, watch_id_field
from .stream import Control, Delivery

__all__ = ["ResponseEncoder"]


class ResponseEncoder:
    """Encodes :class:`Control` / :class:`Delivery` items for the wire.

    ``header(revision)`` builds the response header for a revision (the
    server's cluster/member ids and term); the encoded header of the last
    revision is cached, since a fan-out encodes many responses of one revision.
    ``fragment_limit`` is etcd's ``max_request_bytes + 512 KiB``.
    """

    def __init__(self, header: Callable[[int], rpc_pb2.ResponseHeader], fragment_limit: int) -> None:
        self._header = header
        self.fragment_limit = fragment_limit
        self._hdr_rev = -1
        self._hdr_bytes = b""

    def _header_bytes(self, revision: int) -> bytes:
        if revision != self._hdr_rev:
            self._hdr_bytes = header_field(self._header(revision))
            self._hdr_rev = revision
        return self._hdr_bytes

    def encode(self, item: Control | Delivery) -> list[bytes]:
        """One response, or several when a fragmenting watcher's response is too large."""
        if type(item) is Delivery:
            w = item.watcher
            rev = item.revision
            hdr = self._hdr_bytes if rev == self._hdr_rev else self._header_bytes(rev)
            if not w.fragment:  # the per-event hot path: three shared byte strings joined
                return [hdr + watch_id_field(w.id) + item.batch.body(w.prev_kv)]
            return events_responses(hdr, w.id, item.batch, w.prev_kv, self.fragment_limit)
        assert isinstance(item, Control)
        header = rpc_pb2.ResponseHeader()
        header.CopyFrom(self._header(item.revision))
        header.revision = item.revision  # 0 for compaction cancels: etcd sends no revision
        return [
            control_response(
                header,
                item.watch_id,
                created=item.created,
                canceled=item.canceled,
                compact_revision=item.compact_revision,
                cancel_reason=item.cancel_reason,
            )
        ]
