"""Unit tests for the expiry driver: a fake clock for the lessor, a fake revoker
standing in for the server's log."""

from __future__ import annotations

import asyncio

import pytest

from etcdkit.api import errors
from etcdkit.api.pb import rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease import ExpiryDriver, Lessor


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class FakeRevoker:
    """Applies revokes to the lessor like the apply loop would; can fail on demand."""

    def __init__(self, lessor: Lessor) -> None:
        self.lessor = lessor
        self.calls: list[int] = []
        self.fail_next = 0
        self.block: asyncio.Event | None = None

    async def lease_revoke(self, req: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse:
        self.calls.append(req.ID)
        if self.block is not None:
            await self.block.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise EtcdServerError(errors.TIMEOUT)
        self.lessor.revoke(req.ID)
        return rpc_pb2.LeaseRevokeResponse()


async def _until(pred: object, timeout: float = 5.0) -> None:
    assert callable(pred)
    async with asyncio.timeout(timeout):
        while not pred():
            await asyncio.sleep(0.005)


def _setup(rate: int = 1000) -> tuple[FakeClock, Lessor, FakeRevoker, ExpiryDriver]:
    clock = FakeClock()
    lessor = Lessor(clock, min_ttl=1, retry_interval=3.0)
    revoker = FakeRevoker(lessor)
    driver = ExpiryDriver(lessor, revoker, clock, rate=rate, max_sleep=0.01)
    return clock, lessor, revoker, driver


def test_revokes_expired_leases_only() -> None:
    async def main() -> None:
        clock, lessor, revoker, driver = _setup()
        lessor.grant(1, 5)
        lessor.grant(2, 50)
        lessor.attach(1, b"k")
        driver.start()
        try:
            await asyncio.sleep(0.05)
            assert revoker.calls == []
            clock.now += 5
            await _until(lambda: lessor.lookup(1) is None)
            assert revoker.calls == [1]
            assert lessor.lookup(2) is not None
            assert driver.revoked == 1
        finally:
            await driver.stop()

    asyncio.run(main())


def test_rate_is_bounded_per_tick() -> None:
    async def main() -> None:
        clock, lessor, revoker, driver = _setup(rate=500)  # 5 per 10 ms tick
        for i in range(1, 41):
            lessor.grant(i, 1)
        clock.now += 1
        driver.start()
        try:
            await _until(lambda: len(revoker.calls) >= 5)
            assert len(revoker.calls) <= 10  # at most two ticks' worth so far
            await _until(lambda: len(lessor) == 0)
            assert sorted(revoker.calls) == list(range(1, 41))
        finally:
            await driver.stop()

    asyncio.run(main())


def test_failed_revoke_is_retried_after_retry_interval() -> None:
    async def main() -> None:
        clock, lessor, revoker, driver = _setup()
        lessor.grant(7, 2)
        revoker.fail_next = 1
        clock.now += 2
        driver.start()
        try:
            await _until(lambda: revoker.calls == [7])
            await asyncio.sleep(0.05)
            assert revoker.calls == [7] and lessor.lookup(7) is not None  # held back, not hammered
            clock.now += 3
            await _until(lambda: lessor.lookup(7) is None)
            assert revoker.calls == [7, 7]
        finally:
            await driver.stop()

    asyncio.run(main())


def test_lease_revoked_by_someone_else_is_not_an_error() -> None:
    async def main() -> None:
        clock, lessor, revoker, driver = _setup()
        lessor.grant(3, 1)
        clock.now += 1
        gate = asyncio.Event()
        revoker.block = gate
        driver.start()
        try:
            await _until(lambda: revoker.calls == [3])
            lessor.revoke(3)  # a client revoked it meanwhile
            gate.set()
            await asyncio.sleep(0.05)
            assert driver.revoked == 0
        finally:
            await driver.stop()

    asyncio.run(main())


def test_stop_cancels_revokes_in_flight() -> None:
    async def main() -> None:
        clock, lessor, revoker, driver = _setup()
        lessor.grant(4, 1)
        clock.now += 1
        revoker.block = asyncio.Event()  # never set
        driver.start()
        await _until(lambda: revoker.calls == [4])
        await driver.stop()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert tasks == []

    asyncio.run(main())


def test_rate_must_be_positive() -> None:
    clock = FakeClock()
    lessor = Lessor(clock)
    with pytest.raises(ValueError):
        ExpiryDriver(lessor, FakeRevoker(lessor), clock, rate=0)
