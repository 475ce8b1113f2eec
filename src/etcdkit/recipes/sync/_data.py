"""Blocking STM and cache (see ``etcdkit.recipes.sync``)."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

from etcdkit.client import Client, Event, KeyValue
from etcdkit.recipes._bridge import Bridge
from etcdkit.recipes.cache import AsyncCache, Conflict, PendingWrite
from etcdkit.recipes.core.stm import STMCore
from etcdkit.recipes.stm import AsyncSTM, Isolation

__all__ = ["STM", "Cache", "run_stm"]

R = TypeVar("R")


class STM:
    """Blocking view of one STM attempt (see ``AsyncSTM``)."""

    def __init__(self, bridge: Bridge, view: AsyncSTM) -> None:
        self._bridge = bridge
        self.aio = view

    def get(self, key: bytes) -> bytes | None:
        return self._bridge.run(self.aio.get(key))

    def get_kv(self, key: bytes) -> KeyValue | None:
        return self._bridge.run(self.aio.get_kv(key))

    def put(self, key: bytes, value: bytes) -> None:
        self.aio.put(key, value)

    def delete(self, key: bytes) -> None:
        self.aio.delete(key)

    @property
    def attempt(self) -> int:
        return self.aio.attempt


def run_stm(
    client: Client,
    apply: Callable[[STM], R],
    *,
    isolation: Isolation = Isolation.SERIALIZABLE_SNAPSHOT,
    max_attempts: int = 20,
) -> R:
    """Blocking ``run_stm_async``: ``apply`` runs in the calling thread, its reads on the client's loop."""
    bridge = Bridge(client)
    core = STMCore(isolation, max_attempts)
    while True:
        result = apply(STM(bridge, AsyncSTM(client.aio, core)))
        if core.committed(bridge.run(client.aio.txn(core.commit_txn()))):
            return result


class Cache:
    """Blocking ``AsyncCache``: reads are local (no loop hop); writes and lifecycle run on the loop.

    ``on_conflict`` and listeners run on the client's loop thread.
    """

    def __init__(
        self,
        client: Client,
        prefix: bytes,
        *,
        path: str | os.PathLike[str] | None = None,
        write_back: bool = True,
        on_conflict: Callable[[Conflict], None] | None = None,
        persist_interval: float = 0.2,
        retry_interval: float = 0.5,
    ) -> None:
        self._bridge = Bridge(client)
        self.aio = AsyncCache(
            client.aio,
            prefix,
            path=path,
            write_back=write_back,
            on_conflict=on_conflict,
            persist_interval=persist_interval,
            retry_interval=retry_interval,
        )

    def get(self, key: bytes) -> bytes | None:
        return self.aio.get(key)

    def get_kv(self, key: bytes) -> KeyValue | None:
        return self.aio.get_kv(key)

    def items(self) -> list[tuple[bytes, bytes]]:
        return self.aio.items()

    def __contains__(self, key: bytes) -> bool:
        return key in self.aio

    def __len__(self) -> int:
        return len(self.aio)

    @property
    def revision(self) -> int:
        return self.aio.revision

    @property
    def stale(self) -> bool:
        return self.aio.stale

    def staleness(self) -> float:
        return self.aio.staleness()

    @property
    def pending(self) -> list[PendingWrite]:
        return self.aio.pending

    @property
    def conflicts(self) -> list[Conflict]:
        return self.aio.conflicts

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        self.aio.add_listener(listener)

    def put(self, key: bytes, value: bytes) -> None:
        self._bridge.run(self.aio.put(key, value))

    def delete(self, key: bytes) -> None:
        self._bridge.run(self.aio.delete(key))

    def flush(self, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.flush(timeout))

    def wait_synced(self, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.wait_synced(timeout))

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> None:
        """Wait until ``predicate()`` (evaluated on the loop thread; must not block) holds."""
        self._bridge.run(self.aio.wait_for(predicate, timeout))

    def start(self, timeout: float | None = None) -> None:
        self._bridge.run(self.aio.start(timeout))

    def close(self) -> None:
        self._bridge.run(self.aio.close())

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
