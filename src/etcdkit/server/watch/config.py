"""Tunables of the watch hub (a frozen dataclass passed in, never globals)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WatchConfig"]


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """Bounds that keep watch work proportional and memory bounded.

    ``queue_capacity``: responses carrying events that one stream may hold
    before its watchers become victims (etcd's per-stream channel holds 128;
    ours is larger by default because a Python sender drains slower).
    ``catchup_max_events``: events read from history per catch-up batch (whole
    revisions only, so a larger revision still comes in one batch); also the
    size up to which a lagging sender merges a watcher's queued deliveries.
    ``catchup_max_watchers``: unsynced/victim watchers one ``take`` call may
    catch up (etcd's ``maxWatchersPerSync`` is 512).
    ``take_max_items``: queued responses handed to a sender per ``take``.
    """

    queue_capacity: int = 1024
    catchup_max_events: int = 1000
    catchup_max_watchers: int = 512
    take_max_items: int = 256

    def __post_init__(self) -> None:
        for name in ("queue_capacity", "catchup_max_events", "catchup_max_watchers", "take_max_items"):
            if getattr(self, name) < 1:
                raise ValueError(f"WatchConfig.{name} must be >= 1")
