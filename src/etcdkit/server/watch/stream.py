"""Per-stream state: the watchers of one Watch stream and its bounded queue.

These are plain data holders; every decision is made by :class:`WatchHub`.
A stream's queue holds :class:`Control` responses (created, canceled,
progress: never dropped, bounded by what the client asks for) and
:class:`Delivery` responses (events; at most ``queue_capacity`` of them). The
sender takes items in FIFO order, so a ``created`` always precedes the
watcher's events and a progress notification never overtakes queued events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import IntEnum

from etcdkit.api.errors import WireError

from .codec import EventBatch

__all__ = ["Control", "Delivery", "WatchStream", "Watcher", "WatcherState"]


class WatcherState(IntEnum):
    """Where a watcher is. Transitions: UNSYNCED -> SYNCED <-> VICTIM, any -> CANCELED (final)."""

    SYNCED = 0  # in the key index; gets live events from notify()
    UNSYNCED = 1  # start revision in the past; catching up from history
    VICTIM = 2  # its stream queue was full; catching up from history
    CANCELED = 3  # detached from the hub (client cancel, compaction, stream close)


class Watcher:
    """One watch: a key range, options and the next revision it must receive."""

    __slots__ = (
        "discard",
        "fragment",
        "id",
        "key",
        "next_rev",
        "no_delete",
        "no_put",
        "prev_kv",
        "progress_notify",
        "quiet",
        "range_end",
        "state",
        "stream",
    )

    def __init__(
        self,
        stream: WatchStream,
        watch_id: int,
        key: bytes,
        range_end: bytes,
        next_rev: int,
        *,
        prev_kv: bool = False,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
        fragment: bool = False,
    ) -> None:
        self.stream = stream
        self.id = watch_id
        self.key = key
        self.range_end = range_end
        # Invariant: every matching event with revision < next_rev has been queued
        # (or filtered out); none with revision >= next_rev has.
        self.next_rev = next_rev
        self.prev_kv = prev_kv
        self.no_put = no_put
        self.no_delete = no_delete
        self.progress_notify = progress_notify
        self.fragment = fragment
        self.state = WatcherState.UNSYNCED
        self.quiet = True  # no events queued since the last periodic progress tick
        self.discard = False  # drop its queued deliveries (stream closed)

    def __repr__(self) -> str:
        return (
            f"Watcher(id={self.id}, key={self.key!r}, end={self.range_end!r}, next={self.next_rev}, {self.state.name})"
        )


class Control:
    """A response without events: created, canceled or progress."""

    __slots__ = ("cancel_reason", "canceled", "compact_revision", "created", "revision", "watch_id")

    def __init__(
        self,
        watch_id: int,
        revision: int,
        *,
        created: bool = False,
        canceled: bool = False,
        compact_revision: int = 0,
        cancel_reason: str = "",
    ) -> None:
        self.watch_id = watch_id
        self.revision = revision  # header revision; 0 = none (compaction cancels, as etcd)
        self.created = created
        self.canceled = canceled
        self.compact_revision = compact_revision
        self.cancel_reason = cancel_reason

    def __repr__(self) -> str:
        flags = [n for n in ("created", "canceled") if getattr(self, n)]
        return (
            f"Control(id={self.watch_id}, rev={self.revision}, {flags}, "
            f"compact={self.compact_revision}, reason={self.cancel_reason!r})"
        )


class Delivery:
    """Events of whole revisions for one watcher."""

    __slots__ = ("batch", "revision", "watcher")

    def __init__(self, watcher: Watcher, revision: int, batch: EventBatch) -> None:
        self.watcher = watcher
        self.revision = revision  # header revision
        self.batch = batch


class WatchStream:
    """One Watch RPC stream as the hub sees it."""

    __slots__ = (
        "catchup",
        "closed",
        "drop",
        "event_items",
        "label",
        "next_id",
        "queue",
        "signaled",
        "wakeup",
        "watchers",
    )

    def __init__(self, wakeup: Callable[[], None], label: str = "") -> None:
        self.wakeup = wakeup  # called (once per take) when the queue becomes non-empty
        self.label = label  # e.g. the client's peer address, for fault hooks
        self.watchers: dict[int, Watcher] = {}  # by watch id, including compaction-canceled ones
        self.next_id = 0
        self.queue: deque[Control | Delivery] = deque()
        self.event_items = 0  # Delivery items in queue
        self.catchup: dict[Watcher, None] = {}  # UNSYNCED and VICTIM watchers, in arrival order
        self.signaled = False
        self.closed = False
        self.drop: WireError | None = None  # fault hook: the sender ends the stream with this error

    @property
    def synced(self) -> bool:
        """True when no watcher of this stream is catching up from history."""
        return not self.catchup

    def __repr__(self) -> str:
        return f"WatchStream({self.label!r}, watchers={len(self.watchers)}, queued={len(self.queue)})"
