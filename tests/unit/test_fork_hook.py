"""The before-fork hook's decision (``etcdkit.client._fork``), without forking: a grpc.aio poller
that only stays up because a closed channel awaits the garbage collector does not make the
child unusable; a poller kept up by open channels does."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from etcdkit.client import _fork


class _Cycle:
    """Stands in for a closed channel caught in a reference cycle: its finalizer stops the poller."""

    def __init__(self, stop: threading.Event) -> None:
        self.me = self
        self.stop = stop

    def __del__(self) -> None:
        self.stop.set()


@pytest.fixture
def poller(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """A stand-in poller thread (ends when its event is set), reported as grpc.aio's."""
    stop = threading.Event()
    t = threading.Thread(target=stop.wait, args=(30,), daemon=True)
    t.start()
    monkeypatch.setattr(_fork, "_grpc_aio_poller", lambda: t if t.is_alive() else None)
    yield stop
    stop.set()
    t.join(5)
    _fork._after_fork_in_parent()


def test_poller_released_by_garbage_collection_is_not_live(poller: threading.Event) -> None:
    gc.disable()  # the cycle must survive until the hook collects it
    try:
        _Cycle(poller)
        assert not poller.is_set()
        _fork._before_fork()
    finally:
        gc.enable()
    assert poller.is_set()
    assert _fork._aio_live_at_fork is False


def test_poller_of_open_etcdkit_channels_is_live_without_waiting(poller: threading.Event) -> None:
    _fork.channel_opened()
    try:
        _fork._before_fork()
        assert _fork._aio_live_at_fork is True
        assert not poller.is_set()  # no collection-and-wait: the channels are open
    finally:
        _fork.channel_closed()


def test_poller_of_foreign_channels_stays_live_after_the_grace(poller: threading.Event) -> None:
    _fork._before_fork()  # nothing of ours is open and nothing collectable stops the poller
    assert _fork._aio_live_at_fork is True
