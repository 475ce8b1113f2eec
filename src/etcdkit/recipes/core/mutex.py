"""Key layout and transactions shared by locks and elections (sans-IO).

These are the layouts of Go clientv3's ``concurrency`` package and of etcd's
Lock and Election services (which are built on it), so holders using any of
them exclude each other:

* a lock or election named ``name`` owns the prefix ``name + "/"``;
* each contender writes ``prefix + lowercase-hex(lease id)`` bound to its
  session's lease; the write is one txn that creates the key only if it does
  not exist (``create_revision == 0``) and otherwise reads it back, so
  retrying after an ambiguous failure finds the same key and revision. The
  same txn lists the newest keys under the prefix (keys only), so the
  contender learns in one round trip whether it is first and, if not, whom
  it waits for;
* contenders are ordered by create revision: the owner (or leader) is the
  key with the lowest create revision under the prefix. A contender owns
  the lock once every key created before its own is gone, which makes the
  queue fair (FIFO). Keys created later never block it, so the set of
  blockers (``blockers``) only shrinks while it waits;
* the fencing token of a holder is its key's create revision: it grows with
  every new holder of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass

from etcdkit.api.keys import prefix_end
from etcdkit.client.txn import Compare, Delete, Get, Put, Txn
from etcdkit.client.types import GetResponse, KeyValue, SortOrder, SortTarget, TxnResponse
from etcdkit.recipes.errors import EmptyLockNameError

__all__ = [
    "NEAR",
    "Contender",
    "abandon_txn",
    "blockers",
    "campaign_outcome",
    "contender_key",
    "contenders",
    "enqueue_txn",
    "first_created",
    "if_still_mine",
    "name_prefix",
]


def name_prefix(name: bytes | str) -> bytes:
    """``name + "/"``; an empty name is refused (it would cover the whole keyspace)."""
    raw = name.encode() if isinstance(name, str) else bytes(name)
    if not raw:
        raise EmptyLockNameError()
    return raw + b"/"


def contender_key(prefix: bytes, lease_id: int) -> bytes:
    """The key a session's lease contends with: ``prefix`` + lowercase hex lease ID (Go's ``%x``)."""
    return prefix + format(lease_id, "x").encode()


def first_created(prefix: bytes) -> Get:
    """The oldest key under ``prefix`` (clientv3 ``WithFirstCreate``): the owner / leader."""
    return Get(prefix, prefix_end(prefix), limit=1, sort_order=SortOrder.ASCEND, sort_target=SortTarget.CREATE)


# A contender with at most NEAR keys before it waits on a prefix watch (see ``_queue``); the
# listings below return at most NEAR + 1 of them, newest first: a shorter list is complete.
NEAR = 2


def contenders(prefix: bytes, limit: int = 0) -> Get:
    """Keys under ``prefix`` (keys only), newest (highest create revision) first, at most ``limit`` (0: all)."""
    return Get(
        prefix,
        prefix_end(prefix),
        limit=limit,
        keys_only=True,
        sort_order=SortOrder.DESCEND,
        sort_target=SortTarget.CREATE,
    )


def blockers(prefix: bytes, revision: int) -> Get:
    """The keys created before ``revision`` under ``prefix``, newest first, at most ``NEAR + 1``."""
    return Get(
        prefix,
        prefix_end(prefix),
        limit=NEAR + 1,
        keys_only=True,
        sort_order=SortOrder.DESCEND,
        sort_target=SortTarget.CREATE,
        max_create_revision=revision - 1,
    )


def enqueue_txn(prefix: bytes, key: bytes, value: bytes, lease_id: int) -> Txn:
    """Create ``key`` unless it exists, and list the newest contenders in the same revision.

    A new key is the newest, so ``NEAR + 2`` entries cover it and ``NEAR + 1`` before it; an
    existing key (a retry) can sit anywhere, so that branch lists every contender.
    """
    return (
        Txn()
        .when(Compare.create_revision(key).eq(0))
        .then(Put(key, value, lease=lease_id), contenders(prefix, NEAR + 2))
        .otherwise(Get(key), contenders(prefix))
    )


@dataclass(frozen=True, slots=True)
class Contender:
    """Where a contender stands after ``enqueue_txn``."""

    key: bytes
    revision: int  # the key's create revision: the fencing token
    value: bytes  # the key's value (for elections: what it proclaims)
    # Keys (only) created before ours, newest first, at most NEAR + 1 (fewer: that is all of them).
    blockers: tuple[KeyValue, ...]
    header_revision: int

    @property
    def owns(self) -> bool:
        """True when this contender is first in line (holds the lock / leads)."""
        return not self.blockers


def campaign_outcome(key: bytes, value: bytes, resp: TxnResponse) -> Contender:
    """Interpret the answer of ``enqueue_txn``."""
    first, listing = resp.responses[0], resp.responses[1]
    assert isinstance(listing, GetResponse)
    if resp.succeeded:
        revision = resp.header.revision
    else:
        assert isinstance(first, GetResponse)
        if not first.kvs:  # cannot happen: the compare said the key exists in this revision
            raise AssertionError("enqueue txn failed but the key is missing")
        revision, value = first.kvs[0].create_revision, first.kvs[0].value
    earlier = tuple(kv for kv in listing.kvs if kv.create_revision < revision)[: NEAR + 1]
    return Contender(key, revision, value, earlier, resp.header.revision)


def if_still_mine(key: bytes, revision: int, *ops: Put | Delete | Get) -> Txn:
    """Run ``ops`` only while ``key`` is still the one created at ``revision``."""
    return Txn().when(Compare.create_revision(key).eq(revision)).then(*ops)


def abandon_txn(key: bytes, revision: int) -> Txn:
    """Delete a contender's ``key``: only the one created at ``revision`` when it is known (non-zero)."""
    if revision:
        return if_still_mine(key, revision, Delete(key))
    return Txn().then(Delete(key))
