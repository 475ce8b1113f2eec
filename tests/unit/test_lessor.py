"""Unit tests for the pure lessor core, driven by a fake clock."""

from __future__ import annotations

import pytest

from etcdkit.api import errors
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.lease import MAX_LEASE_TTL, Lessor


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, dt: float) -> None:
        self.now += dt


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lessor(clock: FakeClock) -> Lessor:
    return Lessor(clock, min_ttl=2, retry_interval=3.0)


def _wire(exc: pytest.ExceptionInfo[EtcdServerError]) -> errors.WireError:
    return exc.value.wire


def test_grant_sets_ttl_and_deadline(lessor: Lessor, clock: FakeClock) -> None:
    lease = lessor.grant(7, 10)
    assert (lease.id, lease.ttl, lease.deadline) == (7, 10, clock.now + 10)
    assert lease.remaining() == 10
    clock.advance(4)
    assert lease.remaining() == 6
    assert lessor.lookup(7) is lease
    assert lessor.lookup(8) is None


@pytest.mark.parametrize("ttl", [-5, 0, 1])
def test_grant_raises_ttl_to_minimum(lessor: Lessor, ttl: int) -> None:
    assert lessor.grant(1, ttl).ttl == 2


def test_grant_max_ttl_allowed_and_larger_rejected(lessor: Lessor) -> None:
    assert lessor.grant(1, MAX_LEASE_TTL).ttl == MAX_LEASE_TTL
    with pytest.raises(EtcdServerError) as exc:
        lessor.grant(2, MAX_LEASE_TTL + 1)
    assert _wire(exc) is errors.LEASE_TTL_TOO_LARGE
    assert lessor.lookup(2) is None


def test_grant_existing_id_rejected(lessor: Lessor) -> None:
    lessor.grant(1, 5)
    with pytest.raises(EtcdServerError) as exc:
        lessor.grant(1, 50)
    assert _wire(exc) is errors.LEASE_EXIST
    lease = lessor.lookup(1)
    assert lease is not None and lease.ttl == 5


def test_revoke_returns_attached_keys_and_forgets_lease(lessor: Lessor) -> None:
    lessor.grant(1, 5)
    lessor.grant(2, 5)
    lessor.attach(1, b"a")
    lessor.attach(1, b"b")
    lessor.attach(2, b"c")
    assert lessor.revoke(1) == {b"a", b"b"}
    assert lessor.lookup(1) is None
    with pytest.raises(EtcdServerError) as exc:
        lessor.revoke(1)
    assert _wire(exc) is errors.LEASE_NOT_FOUND
    assert lessor.revoke(2) == {b"c"}
    assert len(lessor) == 0


def test_attach_unknown_lease_is_not_found(lessor: Lessor) -> None:
    with pytest.raises(EtcdServerError) as exc:
        lessor.attach(99, b"k")
    assert _wire(exc) is errors.LEASE_NOT_FOUND


def test_detach(lessor: Lessor) -> None:
    lessor.grant(1, 5)
    lessor.attach(1, b"a")
    lessor.attach(1, b"b")
    lessor.detach(1, b"a")
    lessor.detach(1, b"missing")  # no-op
    lessor.detach(42, b"a")  # unknown lease: no-op
    assert lessor.revoke(1) == {b"b"}


def test_renew_moves_deadline(lessor: Lessor, clock: FakeClock) -> None:
    lessor.grant(1, 10)
    clock.advance(8)
    assert lessor.renew(1) == 10
    lease = lessor.lookup(1)
    assert lease is not None and lease.remaining() == 10
    clock.advance(9)
    assert lessor.expired() == []
    clock.advance(1)
    assert lessor.expired() == [1]


def test_renew_unknown_or_expired_is_not_found(lessor: Lessor, clock: FakeClock) -> None:
    with pytest.raises(EtcdServerError) as exc:
        lessor.renew(5)
    assert _wire(exc) is errors.LEASE_NOT_FOUND
    lessor.grant(5, 3)
    clock.advance(3)
    with pytest.raises(EtcdServerError) as exc:
        lessor.renew(5)
    assert _wire(exc) is errors.LEASE_NOT_FOUND
    assert lessor.lookup(5) is not None  # still there until the revoke is applied


def test_expired_in_deadline_order_with_limit(lessor: Lessor, clock: FakeClock) -> None:
    lessor.grant(1, 30)
    lessor.grant(2, 10)
    lessor.grant(3, 20)
    lessor.grant(4, 100)
    clock.advance(9.5)
    assert lessor.expired() == []
    clock.advance(25)
    assert lessor.expired(limit=2) == [2, 3]
    assert lessor.expired() == [1]
    assert lessor.expired() == []


def test_expired_hands_out_once_then_retries(lessor: Lessor, clock: FakeClock) -> None:
    lessor.grant(1, 5)
    clock.advance(5)
    assert lessor.expired() == [1]
    assert lessor.expired() == []  # revoke in flight
    clock.advance(2.9)
    assert lessor.expired() == []
    clock.advance(0.2)
    assert lessor.expired() == [1]  # the revoke was lost: ask again
    lessor.revoke(1)
    clock.advance(10)
    assert lessor.expired() == []


def test_revoked_and_renewed_leases_leave_no_expiry(lessor: Lessor, clock: FakeClock) -> None:
    lessor.grant(1, 5)
    lessor.grant(2, 5)
    lessor.revoke(1)
    clock.advance(4)
    lessor.renew(2)
    clock.advance(4)
    assert lessor.expired() == []
    clock.advance(1)
    assert lessor.expired() == [2]


def test_next_deadline(lessor: Lessor, clock: FakeClock) -> None:
    assert lessor.next_deadline() is None
    lessor.grant(1, 7)
    lessor.grant(2, 3)
    assert lessor.next_deadline() == clock.now + 3


def test_promote_refreshes_every_deadline(lessor: Lessor, clock: FakeClock) -> None:
    lessor.grant(1, 10)
    lessor.grant(2, 20)
    clock.advance(15)  # lease 1 is past its deadline
    lessor.promote(extend=1.0)
    assert lessor.expired() == []
    l1, l2 = lessor.lookup(1), lessor.lookup(2)
    assert l1 is not None and l2 is not None
    assert (l1.remaining(), l2.remaining()) == (11.0, 21.0)
    clock.advance(11)
    assert lessor.expired() == [1]


def test_promote_uses_checkpointed_remaining_ttl(lessor: Lessor, clock: FakeClock) -> None:
    lessor.grant(1, 100)
    lessor.checkpoint(1, 30)
    lessor.checkpoint(99, 30)  # unknown: ignored
    lessor.promote()
    lease = lessor.lookup(1)
    assert lease is not None and lease.remaining() == 30
    lessor.renew(1)  # renewal clears the checkpoint
    assert lease.remaining_ttl == 0 and lease.remaining() == 100


def test_grant_with_remaining_ttl(lessor: Lessor) -> None:
    lease = lessor.grant(1, 100, remaining_ttl=40)
    assert lease.ttl == 100 and lease.remaining() == 40


def test_leases_listed_by_id(lessor: Lessor) -> None:
    for i in (5, 1, 3):
        lessor.grant(i, 10)
    assert [lease.id for lease in lessor.leases()] == [1, 3, 5]


def test_heap_stays_bounded_under_renewals(lessor: Lessor, clock: FakeClock) -> None:
    for i in range(10):
        lessor.grant(i, 10)
    for _ in range(1000):
        clock.advance(0.01)
        for i in range(10):
            lessor.renew(i)
    assert len(lessor._heap) <= 2 * 10 + 64 + 1
    clock.advance(10)
    assert sorted(lessor.expired()) == list(range(10))
