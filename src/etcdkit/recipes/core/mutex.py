"""Key layout and transactions shared by locks and elections (sans-IO).

These are the layouts of Go clientv3's ``concurrency`` package and of etcd's
Lock and Election services (which are built on it), so holders using any of
them exclude each other:

* a lock or election named ``name`` owns the prefix ``name + "/"``;
* each contender writes ``prefix + lowercase-hex(lease id)`` bound to its
  session's lease; the write is one txn that creates the key only if it does
  not exist (``create_revision == 0``) and otherwise reads it back, so
  retrying after an ambiguous failure finds the same key and revision;
* contenders are ordered by create revision: the owner (or leader) is the
  key with the lowest create revision under the prefix. Each contender
  waits only for the deletion of the key created just before its own,
  which makes the queue fair (FIFO) and wakes one waiter per release;
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
    "Contender",
    "campaign_outcome",
    "contender_key",
    "enqueue_txn",
    "first_created",
    "if_still_mine",
    "last_created_before",
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


def last_created_before(prefix: bytes, revision: int) -> Get:
    """The newest key under ``prefix`` created before ``revision``: whom a contender waits for."""
    return Get(
        prefix,
        prefix_end(prefix),
        limit=1,
        sort_order=SortOrder.DESCEND,
        sort_target=SortTarget.CREATE,
        max_create_revision=revision - 1,
    )


def enqueue_txn(prefix: bytes, key: bytes, value: bytes, lease_id: int) -> Txn:
    """Create ``key`` unless it exists, and read the current owner in the same revision."""
    return (
        Txn()
        .when(Compare.create_revision(key).eq(0))
        .then(Put(key, value, lease=lease_id), first_created(prefix))
        .otherwise(Get(key), first_created(prefix))
    )


@dataclass(frozen=True, slots=True)
class Contender:
    """Where a contender stands after ``enqueue_txn``."""

    key: bytes
    revision: int  # the key's create revision: the fencing token
    value: bytes  # the key's value (for elections: what it proclaims)
    owner: KeyValue | None  # the oldest key under the prefix
    header_revision: int

    @property
    def owns(self) -> bool:
        """True when this contender is first in line (holds the lock / leads)."""
        return self.owner is None or self.owner.create_revision == self.revision


def campaign_outcome(key: bytes, value: bytes, resp: TxnResponse) -> Contender:
    """Interpret the answer of ``enqueue_txn``."""
    first, owner_resp = resp.responses[0], resp.responses[1]
    assert isinstance(owner_resp, GetResponse)
    owner = owner_resp.kvs[0] if owner_resp.kvs else None
    if resp.succeeded:
        return Contender(key, resp.header.revision, value, owner, resp.header.revision)
    assert isinstance(first, GetResponse)
    if not first.kvs:  # cannot happen: the compare said the key exists in this revision
        raise AssertionError("enqueue txn failed but the key is missing")
    kv = first.kvs[0]
    return Contender(key, kv.create_revision, kv.value, owner, resp.header.revision)


def if_still_mine(key: bytes, revision: int, *ops: Put | Delete | Get) -> Txn:
    """Run ``ops`` only while ``key`` is still the one created at ``revision``."""
    return Txn().when(Compare.create_revision(key).eq(revision)).then(*ops)
