"""WatchHeartbeat: core transitions; alarm (callback, state, metric) when the server is SIGSTOPped,
cleared when it resumes."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from prometheus_client import CollectorRegistry

from etcdkit.client import Client
from etcdkit.recipes import HeartbeatState, WatchHeartbeat
from etcdkit.recipes.core.heartbeat import HeartbeatCore
from etcdkit.testing import ServerProcess, wait_until

H = HeartbeatState


def test_core() -> None:
    c = HeartbeatCore(bound=2.0, now=10.0)
    assert c.tick(11.9) is None and c.state is H.OK
    assert c.beat(11.0) is None
    assert c.next_tick_in(11.5) == pytest.approx(1.5)
    assert c.tick(13.0) is H.ALARM
    assert c.tick(14.0) is None and c.alarms == 1
    assert c.beat(14.5) is H.OK
    assert c.age(15.0) == pytest.approx(0.5)


def test_bad_config(client: Client) -> None:
    with pytest.raises(ValueError):
        WatchHeartbeat(client, b"/hb", interval=2.0, bound=1.0)


def test_alarm_when_server_stopped(make_server: Callable[[], ServerProcess], prefix: bytes) -> None:
    srv = make_server()
    key = prefix + b"health"
    registry = CollectorRegistry()
    changes: list[HeartbeatState] = []
    alarm, ok_again = threading.Event(), threading.Event()

    def on_change(state: HeartbeatState, age: float) -> None:
        changes.append(state)
        (alarm if state is H.ALARM else ok_again).set()

    def metric(name: str) -> float | None:
        return registry.get_sample_value(name, {"key": key.decode()})

    with (
        Client(endpoints=[srv.endpoint], request_timeout=1.0) as c,
        WatchHeartbeat(c, key, interval=0.2, bound=1.0, on_change=on_change, registry=registry) as hb,
    ):
        wait_until(lambda: hb.events >= 3, timeout=10, what="3 heartbeat events")
        assert hb.state is H.OK and metric("etcdkit_watch_heartbeat_alarm") == 0
        srv.pause()
        try:
            assert alarm.wait(10), "no alarm while the server was stopped"
            assert hb.state is H.ALARM
            assert metric("etcdkit_watch_heartbeat_alarm") == 1
            assert metric("etcdkit_watch_heartbeat_alarms_total") == 1
            assert hb.age() >= 1.0
        finally:
            srv.resume()
        assert ok_again.wait(20), "alarm not cleared after the server resumed"
        assert changes[:2] == [H.ALARM, H.OK]
        assert metric("etcdkit_watch_heartbeat_alarm") == 0
        events_total = metric("etcdkit_watch_heartbeat_events_total")
        assert events_total is not None and events_total >= 3
