"""Watch engine: routes committed events to watchers, replays history, never blocks writes.

Contract (see ``hub.py`` for the theory of operation):

* :class:`WatchHub` is a synchronous core owned by the server's event loop:
  the apply loop calls ``notify(revision, events)`` once per committed revision,
  in order, before the revision becomes visible to readers; ``on_compact`` after
  a compaction. Streams call ``create`` / ``cancel`` / ``request_progress`` /
  ``progress_tick`` and their sender drains ``take(stream)``.
* Guarantees kept per watcher: ordered, unique, reliable (no gap between
  history replay and live events), atomic (one revision is never split across
  responses; only the sender's optional fragmenting splits a response),
  resumable (start revision) and bookmarkable (progress only when synced, in
  FIFO order after queued events).
* A stream queue holds at most ``WatchConfig.queue_capacity`` event responses;
  a watcher that would overflow it becomes a *victim* and catches up from
  history later. A start revision (or a victim's position) below the
  compaction point ends in a cancel carrying ``compact_revision``.
* :class:`EventSource` is the protocol the MVCC store implements for it.
* No asyncio, grpc, time or random here.
"""

from typing import Any

from prometheus_client import CollectorRegistry

from .codec import EncodedEvent, EventBatch
from .config import WatchConfig
from .encoder import ResponseEncoder
from .hub import WatchHub
from .key_index import KeyIndex
from .metrics import WatchMetrics
from .source import EventSource
from .stream import Control, Delivery, Watcher, WatcherState, WatchStream

__all__ = [
    "Control",
    "Delivery",
    "EncodedEvent",
    "EventBatch",
    "EventSource",
    "KeyIndex",
    "ResponseEncoder",
    "WatchConfig",
    "WatchHub",
    "WatchMetrics",
    "WatchStream",
    "Watcher",
    "WatcherState",
    "build_hub",
]


class _UnboundSource:
    """Placeholder until the server sets ``hub.source`` to itself."""

    def current_revision(self) -> int:
        raise RuntimeError("WatchHub.source is not set")

    def compact_revision(self) -> int:
        raise RuntimeError("WatchHub.source is not set")

    def read_events(self, key: bytes, range_end: bytes, start_rev: int, end_rev: int, max_events: int) -> list[Any]:
        raise RuntimeError("WatchHub.source is not set")


def build_hub(cfg: object, registry: CollectorRegistry | None) -> WatchHub:
    """The hub for a server (``cfg`` is its ServerConfig; the defaults of
    :class:`WatchConfig` apply). The caller sets ``hub.source`` before use."""
    return WatchHub(_UnboundSource(), WatchConfig(), registry=registry)
