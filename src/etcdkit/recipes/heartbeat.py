"""``AsyncWatchHeartbeat``: bump a health key on an interval and alarm when its watch goes quiet.

Usage::

    hb = AsyncWatchHeartbeat(client, b"/stock/health", interval=1.0, bound=5.0,
                             on_change=lambda state, age: log.warning("watch %s", state),
                             registry=prometheus_registry)
    await hb.start()
    ...
    hb.state          # HeartbeatState.OK / ALARM
    await hb.stop()

Contract:

* the writer (``writer=True``, the default) puts an increasing counter at
  ``key`` every ``interval`` seconds; a failed put is logged and the next
  one tried on schedule. Run the writer in one process and monitors in many
  with ``writer=False``;
* the monitor watches ``key``; ``core.heartbeat.HeartbeatCore`` decides: no
  event for ``bound`` seconds → ALARM, next event → OK. ``bound`` must exceed
  ``interval``;
* ``on_change(state, age)`` runs on the event loop at each transition;
* with ``registry`` (a ``prometheus_client.CollectorRegistry``) the monitor
  exports, labelled by ``key``: ``etcdkit_watch_heartbeat_alarm`` (1 in
  ALARM), ``etcdkit_watch_heartbeat_age_seconds``,
  ``etcdkit_watch_heartbeat_events_total``, ``etcdkit_watch_heartbeat_alarms_total``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from etcdkit.client import AsyncClient, ClientClosedError, EtcdError, Watch
from etcdkit.recipes._queue import stop_tasks
from etcdkit.recipes.core.heartbeat import HeartbeatCore, HeartbeatState

__all__ = ["AsyncWatchHeartbeat", "HeartbeatState"]

log = logging.getLogger("etcdkit.recipes.heartbeat")


class _Metrics:
    def __init__(self, registry: CollectorRegistry, key: bytes) -> None:
        label = key.decode(errors="replace")
        self.alarm = Gauge(
            "etcdkit_watch_heartbeat_alarm", "1 while the heartbeat watch is silent", ["key"], registry=registry
        ).labels(label)
        self.age = Gauge(
            "etcdkit_watch_heartbeat_age_seconds", "seconds since the last heartbeat event", ["key"], registry=registry
        ).labels(label)
        self.events = Counter(
            "etcdkit_watch_heartbeat_events", "heartbeat events received", ["key"], registry=registry
        ).labels(label)
        self.alarms = Counter(
            "etcdkit_watch_heartbeat_alarms", "times the alarm went up", ["key"], registry=registry
        ).labels(label)


class AsyncWatchHeartbeat:
    """A heartbeat writer and/or monitor for one health key."""

    def __init__(
        self,
        client: AsyncClient,
        key: bytes,
        *,
        interval: float = 1.0,
        bound: float = 5.0,
        writer: bool = True,
        on_change: Callable[[HeartbeatState, float], None] | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        if not 0 < interval < bound:
            raise ValueError("need 0 < interval < bound")
        self.client = client
        self.key = key
        self.interval = interval
        self.bound = bound
        self.writer = writer
        self._on_change = on_change
        self._metrics = _Metrics(registry, key) if registry is not None else None
        self._core = HeartbeatCore(bound, time.monotonic())
        self._tasks: list[asyncio.Task[None]] = []
        self._changed = asyncio.Event()
        self.sent = 0
        self._watch_handle: Watch | None = None
        self._stopping = False

    @property
    def state(self) -> HeartbeatState:
        return self._core.state

    def age(self) -> float:
        """Seconds since the last heartbeat event."""
        return self._core.age(time.monotonic())

    @property
    def events(self) -> int:
        return self._core.beats

    async def wait_state(self, state: HeartbeatState, timeout: float | None = None) -> None:
        """Wait until the monitor is in ``state`` (``TimeoutError`` after ``timeout``)."""

        async def until() -> None:
            while self._core.state is not state:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    async def start(self) -> None:
        """Create the watch (so no event after ``start`` returns is missed) and start the tasks."""
        self._core = HeartbeatCore(self.bound, time.monotonic())
        self._stopping = False
        watch = await self.client.watch(self.key)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._watch(watch)), loop.create_task(self._tick())]
        if self.writer:
            self._tasks.append(loop.create_task(self._write()))
        self._watch_handle = watch

    async def stop(self) -> None:
        """Stop every task and the watch. Idempotent."""
        self._stopping = True
        await stop_tasks(self._tasks)
        self._tasks = []
        if self._watch_handle is not None:
            await self._watch_handle.close()
            self._watch_handle = None

    async def __aenter__(self) -> AsyncWatchHeartbeat:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _apply(self, changed: HeartbeatState | None) -> None:
        now = time.monotonic()
        if self._metrics is not None:
            self._metrics.age.set(self._core.age(now))
            self._metrics.alarm.set(1 if self._core.state is HeartbeatState.ALARM else 0)
        if changed is None:
            return
        if self._metrics is not None and changed is HeartbeatState.ALARM:
            self._metrics.alarms.inc()
        self._changed.set()
        if self._on_change is not None:
            try:
                self._on_change(changed, self._core.age(now))
            except Exception:
                log.exception("heartbeat on_change callback failed")

    async def _watch(self, watch: Watch) -> None:
        while not self._stopping:
            try:
                async for batch in watch:
                    for _ in batch.events:
                        if self._metrics is not None:
                            self._metrics.events.inc()
                        self._apply(self._core.beat(time.monotonic()))
                return  # closed by stop()
            except ClientClosedError:
                return
            except EtcdError as e:
                # The watch ended (cancelled by the server, compacted...): the alarm will say so
                # if it lasts; start a new one from now.
                log.warning("heartbeat watch on %r ended: %s; re-creating", self.key, e)
            while not self._stopping:
                try:
                    watch = self._watch_handle = await self.client.watch(self.key)
                    break
                except ClientClosedError:
                    return
                except EtcdError:
                    await asyncio.sleep(self.interval)

    async def _tick(self) -> None:
        while not self._stopping:
            # Wake just past the moment the alarm would go up; in ALARM only refresh the age gauge.
            quiet = self._core.next_tick_in(time.monotonic()) if self._core.state is HeartbeatState.OK else self.bound
            await asyncio.sleep(min(quiet + 0.001, self.bound / 4))
            self._apply(self._core.tick(time.monotonic()))

    async def _write(self) -> None:
        next_at = time.monotonic()
        while not self._stopping:
            try:
                self.sent += 1
                await self.client.put(self.key, str(self.sent).encode(), timeout=self.interval * 2)
            except ClientClosedError:
                return
            except EtcdError as e:
                log.warning("heartbeat write to %r failed: %s", self.key, e)
            next_at = max(next_at + self.interval, time.monotonic())
            await asyncio.sleep(next_at - time.monotonic())
