"""``run_stm``: optimistic multi-key transactions with retry (asyncio); the logic is ``core.stm``.

Usage::

    async def transfer(stm: AsyncSTM) -> None:
        a = int(await stm.get(b"acct/a") or b"0")
        b = int(await stm.get(b"acct/b") or b"0")
        stm.put(b"acct/a", str(a - 10).encode())
        stm.put(b"acct/b", str(b + 10).encode())

    await run_stm_async(client, transfer, isolation=Isolation.SERIALIZABLE_SNAPSHOT)

Contract: ``apply`` may run several times (once per attempt) and must have no
effect other than its STM reads and writes; ``run_stm`` returns the value
returned by the attempt that committed, and raises ``STMConflictError`` after
``max_attempts`` conflicting attempts. Errors raised by ``apply`` end the
transaction with nothing written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from etcdkit.client import AsyncClient, KeyValue
from etcdkit.recipes.core.stm import Isolation, STMCore

__all__ = ["AsyncSTM", "Isolation", "run_stm_async"]

R = TypeVar("R")


class AsyncSTM:
    """The view an attempt works on: ``get`` reads (once per key), ``put``/``delete`` are local."""

    def __init__(self, client: AsyncClient, core: STMCore) -> None:
        self._client = client
        self._core = core

    async def get_kv(self, key: bytes) -> KeyValue | None:
        """The key-value as read (None when absent); own writes are not reflected."""
        known, kv = self._core.was_read(key)
        if known:
            return kv
        return self._core.record(key, await self._client.get_op(self._core.read_op(key)))

    async def get(self, key: bytes) -> bytes | None:
        """The value, seeing this transaction's own writes; None when absent."""
        known, value = self._core.written(key)
        if known:
            return value
        kv = await self.get_kv(key)
        return kv.value if kv is not None else None

    def put(self, key: bytes, value: bytes) -> None:
        self._core.put(key, value)

    def delete(self, key: bytes) -> None:
        self._core.delete(key)

    @property
    def attempt(self) -> int:
        """1 on the first run of ``apply``, 2 on the first retry..."""
        return self._core.attempts


async def run_stm_async(
    client: AsyncClient,
    apply: Callable[[AsyncSTM], Awaitable[R]],
    *,
    isolation: Isolation = Isolation.SERIALIZABLE_SNAPSHOT,
    max_attempts: int = 20,
) -> R:
    """Run ``apply`` as an STM transaction until it commits."""
    core = STMCore(isolation, max_attempts)
    while True:
        result = await apply(AsyncSTM(client, core))
        if core.committed(await client.txn(core.commit_txn())):
            return result
