"""Prometheus metrics of the watch hub, under etcd's names.

Values are read from the hub when the registry is scraped (a custom
collector), so the dispatch hot path only bumps plain integers. Pass the
server's own ``CollectorRegistry``; with ``None`` nothing is registered (the
process-global default registry is never used, so several servers can live in
one process).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from .hub import WatchHub

__all__ = ["WatchMetrics"]


class WatchMetrics(Collector):
    """etcd_debugging_mvcc_{watch_stream,watcher,slow_watcher,events,pending_events}_total."""

    def __init__(self, hub: WatchHub, registry: CollectorRegistry | None) -> None:
        self._hub = hub
        self.registry = registry
        if registry is not None:
            registry.register(self)

    def collect(self) -> Iterator[Metric]:
        hub = self._hub
        yield GaugeMetricFamily(
            "etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.", value=len(hub.streams)
        )
        yield GaugeMetricFamily(
            "etcd_debugging_mvcc_watcher_total", "Total number of watchers.", value=hub.watcher_count
        )
        yield GaugeMetricFamily(
            "etcd_debugging_mvcc_slow_watcher_total",
            "Total number of unsynced slow watchers.",
            value=hub.slow_count,
        )
        yield CounterMetricFamily(
            "etcd_debugging_mvcc_events_total",
            "Total number of events sent by this member.",
            value=hub.events_sent,
        )
        yield GaugeMetricFamily(
            "etcd_debugging_mvcc_pending_events_total",
            "Total number of pending events to be sent.",
            value=hub.pending_events,
        )
