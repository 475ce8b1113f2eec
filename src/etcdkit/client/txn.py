"""Request operations and the transaction builder.

``Get``, ``Put`` and ``Delete`` describe one KV request with every etcd
option; ``client.get/put/delete`` build them from keywords, and a ``Txn``
takes them as its branches. Compares are built fluently::

    txn = (
        Txn()
        .when(Compare.value(b"k").eq(b"old"), Compare.version(b"lock").eq(0))
        .then(Put(b"k", b"new"), Get(b"k"))
        .otherwise(Get(b"k"))
    )
    resp = await client.txn(txn)

Range options follow etcd's conventions (``etcdkit.api.keys``): ``prefix=True``
sets ``range_end`` to the prefix end, ``from_key=True`` to ``b"\\0"``. A
compare may cover a range too (``Compare.version(b"a", range_end=b"b")``),
true when it holds for every key in it. Txns nest (``Txn`` is an op).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from etcdkit.api.keys import FROM_KEY, prefix_end
from etcdkit.api.pb import rpc_pb2
from etcdkit.client.types import SortOrder, SortTarget

if TYPE_CHECKING:
    from etcdkit.client._convert import Namespace

__all__ = [
    "Compare",
    "CompareBuilder",
    "Delete",
    "Get",
    "Op",
    "Put",
    "Txn",
    "put_request",
    "range_end_for",
    "range_request",
]


def range_end_for(key: bytes, range_end: bytes | None, prefix: bool, from_key: bool) -> bytes:
    """Resolve the range options to one ``range_end`` (at most one may be given)."""
    if range_end is None and not prefix and not from_key:
        return b""
    if (range_end is not None) + bool(prefix) + bool(from_key) > 1:
        raise ValueError("give at most one of range_end, prefix, from_key")
    if prefix:
        return prefix_end(key)
    if from_key:
        return FROM_KEY
    return range_end or b""


def range_request(
    ns: Namespace,
    key: bytes,
    range_end: bytes,
    limit: int,
    revision: int,
    sort_order: SortOrder,
    sort_target: SortTarget,
    serializable: bool,
    keys_only: bool,
    count_only: bool,
    min_mod_revision: int,
    max_mod_revision: int,
    min_create_revision: int,
    max_create_revision: int,
) -> rpc_pb2.RangeRequest:
    """The ``RangeRequest`` of a ``Get`` (fields at their defaults are left unset: the same message, built faster)."""
    req = rpc_pb2.RangeRequest(key=ns.key(key))
    if range_end:
        req.range_end = ns.range_end(key, range_end)
    if limit:
        req.limit = limit
    if revision:
        req.revision = revision
    if sort_order is not SortOrder.NONE:
        req.sort_order = sort_order.value
    if sort_target is not SortTarget.KEY:
        req.sort_target = sort_target.value
    if serializable:
        req.serializable = True
    if keys_only:
        req.keys_only = True
    if count_only:
        req.count_only = True
    if min_mod_revision or max_mod_revision or min_create_revision or max_create_revision:
        req.min_mod_revision = min_mod_revision
        req.max_mod_revision = max_mod_revision
        req.min_create_revision = min_create_revision
        req.max_create_revision = max_create_revision
    return req


@dataclass(frozen=True, slots=True)
class Get:
    """A Range request. ``limit=0`` means no limit; ``revision=0`` means latest."""

    key: bytes
    range_end: bytes = b""
    limit: int = 0
    revision: int = 0
    sort_order: SortOrder = SortOrder.NONE
    sort_target: SortTarget = SortTarget.KEY
    serializable: bool = False
    keys_only: bool = False
    count_only: bool = False
    min_mod_revision: int = 0
    max_mod_revision: int = 0
    min_create_revision: int = 0
    max_create_revision: int = 0

    def to_pb(self, ns: Namespace) -> rpc_pb2.RangeRequest:
        return range_request(
            ns,
            self.key,
            self.range_end,
            self.limit,
            self.revision,
            self.sort_order,
            self.sort_target,
            self.serializable,
            self.keys_only,
            self.count_only,
            self.min_mod_revision,
            self.max_mod_revision,
            self.min_create_revision,
            self.max_create_revision,
        )

    def to_op(self, ns: Namespace) -> rpc_pb2.RequestOp:
        return rpc_pb2.RequestOp(request_range=self.to_pb(ns))


def put_request(
    ns: Namespace, key: bytes, value: bytes, lease: int, prev_kv: bool, ignore_value: bool, ignore_lease: bool
) -> rpc_pb2.PutRequest:
    """The ``PutRequest`` of a ``Put`` (fields at their defaults are left unset)."""
    req = rpc_pb2.PutRequest(key=ns.key(key), value=value)
    if lease:
        req.lease = lease
    if prev_kv:
        req.prev_kv = True
    if ignore_value:
        req.ignore_value = True
    if ignore_lease:
        req.ignore_lease = True
    return req


@dataclass(frozen=True, slots=True)
class Put:
    """A Put. ``ignore_value``/``ignore_lease`` keep the current value/lease."""

    key: bytes
    value: bytes = b""
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False

    def to_pb(self, ns: Namespace) -> rpc_pb2.PutRequest:
        return put_request(ns, self.key, self.value, self.lease, self.prev_kv, self.ignore_value, self.ignore_lease)

    def to_op(self, ns: Namespace) -> rpc_pb2.RequestOp:
        return rpc_pb2.RequestOp(request_put=self.to_pb(ns))


@dataclass(frozen=True, slots=True)
class Delete:
    """A DeleteRange."""

    key: bytes
    range_end: bytes = b""
    prev_kv: bool = False

    def to_pb(self, ns: Namespace) -> rpc_pb2.DeleteRangeRequest:
        return rpc_pb2.DeleteRangeRequest(
            key=ns.key(self.key), range_end=ns.range_end(self.key, self.range_end), prev_kv=self.prev_kv
        )

    def to_op(self, ns: Namespace) -> rpc_pb2.RequestOp:
        return rpc_pb2.RequestOp(request_delete_range=self.to_pb(ns))


_R = rpc_pb2.Compare.CompareResult
_T = rpc_pb2.Compare.CompareTarget


@dataclass(frozen=True, slots=True)
class Compare:
    """One txn guard: ``target(key) <op> operand``; build with the class methods."""

    target: str  # "value" | "version" | "create" | "mod" | "lease"
    key: bytes
    result: str  # "==" | "!=" | ">" | "<"
    operand: bytes | int
    range_end: bytes = b""

    @staticmethod
    def value(key: bytes, range_end: bytes = b"") -> CompareBuilder:
        return CompareBuilder("value", key, range_end)

    @staticmethod
    def version(key: bytes, range_end: bytes = b"") -> CompareBuilder:
        return CompareBuilder("version", key, range_end)

    @staticmethod
    def create_revision(key: bytes, range_end: bytes = b"") -> CompareBuilder:
        return CompareBuilder("create", key, range_end)

    @staticmethod
    def mod_revision(key: bytes, range_end: bytes = b"") -> CompareBuilder:
        return CompareBuilder("mod", key, range_end)

    @staticmethod
    def lease(key: bytes, range_end: bytes = b"") -> CompareBuilder:
        return CompareBuilder("lease", key, range_end)

    def to_pb(self, ns: Namespace) -> rpc_pb2.Compare:
        results = {"==": _R.EQUAL, "!=": _R.NOT_EQUAL, ">": _R.GREATER, "<": _R.LESS}
        c = rpc_pb2.Compare(
            key=ns.key(self.key), range_end=ns.range_end(self.key, self.range_end), result=results[self.result]
        )
        if self.target == "value":
            if not isinstance(self.operand, bytes):
                raise TypeError("a value compare takes bytes")
            c.target = _T.VALUE
            c.value = self.operand
            return c
        if not isinstance(self.operand, int):
            raise TypeError(f"a {self.target} compare takes an int")
        if self.target == "version":
            c.target, c.version = _T.VERSION, self.operand
        elif self.target == "create":
            c.target, c.create_revision = _T.CREATE, self.operand
        elif self.target == "mod":
            c.target, c.mod_revision = _T.MOD, self.operand
        else:
            c.target, c.lease = _T.LEASE, self.operand
        return c


@dataclass(frozen=True, slots=True)
class CompareBuilder:
    """Half-built compare: pick the operator."""

    target: str
    key: bytes
    range_end: bytes = b""

    def eq(self, operand: bytes | int) -> Compare:
        return Compare(self.target, self.key, "==", operand, self.range_end)

    def ne(self, operand: bytes | int) -> Compare:
        return Compare(self.target, self.key, "!=", operand, self.range_end)

    def gt(self, operand: bytes | int) -> Compare:
        return Compare(self.target, self.key, ">", operand, self.range_end)

    def lt(self, operand: bytes | int) -> Compare:
        return Compare(self.target, self.key, "<", operand, self.range_end)


@dataclass(frozen=True, slots=True)
class Txn:
    """If every compare holds, run ``success`` ops, else ``failure`` ops. Immutable builder."""

    compares: tuple[Compare, ...] = ()
    success: tuple[Op, ...] = field(default=())
    failure: tuple[Op, ...] = field(default=())

    def when(self, *compares: Compare) -> Txn:
        return Txn(self.compares + compares, self.success, self.failure)

    def then(self, *ops: Op) -> Txn:
        return Txn(self.compares, self.success + ops, self.failure)

    def otherwise(self, *ops: Op) -> Txn:
        return Txn(self.compares, self.success, self.failure + ops)

    def to_pb(self, ns: Namespace) -> rpc_pb2.TxnRequest:
        return rpc_pb2.TxnRequest(
            compare=[c.to_pb(ns) for c in self.compares],
            success=[op.to_op(ns) for op in self.success],
            failure=[op.to_op(ns) for op in self.failure],
        )

    def to_op(self, ns: Namespace) -> rpc_pb2.RequestOp:
        return rpc_pb2.RequestOp(request_txn=self.to_pb(ns))

    @property
    def read_only(self) -> bool:
        """True when no branch writes (such a txn may be retried like a read)."""
        return all(isinstance(op, Get) or (isinstance(op, Txn) and op.read_only) for op in self.success + self.failure)


Op = Get | Put | Delete | Txn
