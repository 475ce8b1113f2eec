"""The blocking watch's batch pump: buffered batches survive close, a blocked reader is released, no task is left."""

from __future__ import annotations

import threading

from etcdkit.client import Client, ClientClosedError, WatchBatch


def test_batches_received_before_close_are_still_read(endpoint: str, prefix: bytes) -> None:
    with Client(endpoints=[endpoint]) as c:
        w = c.watch(prefix, prefix=True)
        first = c.put(prefix + b"a", b"1")
        got = w.next(timeout=10)  # starts the pump
        assert got is not None and got.events[0].kv.mod_revision == first.header.revision
        revs = [c.put(prefix + b"a", str(i).encode()).header.revision for i in range(5)]
        seen: list[int] = []
        while len(seen) < len(revs):
            batch = w.next(timeout=10)
            assert batch is not None
            seen += [e.kv.mod_revision for e in batch.events]
        w.close()
        assert seen == revs
        assert w.next(timeout=10) is None  # ended after what it had received
        assert w.next(timeout=10) is None  # and stays ended
        assert not c._pumps  # the pump task ended with the watch


def test_reader_blocked_without_timeout_is_released_by_close(endpoint: str, prefix: bytes) -> None:
    c = Client(endpoints=[endpoint])
    w = c.watch(prefix, prefix=True)
    c.put(prefix + b"k", b"v")
    assert w.next(timeout=10) is not None
    outcome: list[BaseException | WatchBatch | None] = []
    started = threading.Event()

    def reader() -> None:
        started.set()
        try:
            outcome.append(w.next())  # no timeout: only close() can end this
        except BaseException as e:
            outcome.append(e)

    t = threading.Thread(target=reader)
    t.start()
    assert started.wait(10)
    c.close()
    t.join(timeout=10)
    assert not t.is_alive(), "a blocked watch reader was not released by close()"
    assert len(outcome) == 1 and isinstance(outcome[0], ClientClosedError)
    assert not c._pumps
