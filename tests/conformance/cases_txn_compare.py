"""Conformance: Txn compares (every target x result, missing keys, range compares, odd enums).

Compare outcomes are recorded as compact tables ``{"<result> <operand>": succeeded}``;
branch contents are covered by ``cases_txn.py``.
"""

from __future__ import annotations

from typing import Any

from etcdkit.api.pb import rpc_pb2 as pb

from .case_tools import Result, Target, grant, prefix, put, rev, revoke
from .harness import Conn, case

RESULTS = ("EQUAL", "GREATER", "LESS", "NOT_EQUAL")


def _succeeded(c: Conn, compares: list[pb.Compare]) -> Any:
    """Run a txn with ``compares`` and empty branches; True/False, or the normalised error."""
    out = c.try_call(c.kv.Txn, pb.TxnRequest(compare=compares))
    if isinstance(out, pb.TxnResponse):
        return out.succeeded
    return c.normalise(out)


def _table(c: Conn, key: bytes, target: str, operands: dict[str, dict[str, Any]], range_end: bytes = b"") -> None:
    table: dict[str, Any] = {}
    for result in RESULTS:
        for label, operand in operands.items():
            cmp = pb.Compare(
                key=key, range_end=range_end, target=Target.Value(target), result=Result.Value(result), **operand
            )
            table[f"{result} {label}"] = _succeeded(c, [cmp])
    c.record(table, f"{target} compares")


def _fixture(c: Conn, lease: int = 0) -> tuple[int, int]:
    """Key "k": version 2, created at A, modified at B, value "v2" (lease ``lease``). Returns (A, B)."""
    a = rev(put(c, "k", b"v1"))
    b = rev(put(c, "k", b"v2", lease=lease))
    return a, b


@case
def case_txn_compare_version(c: Conn) -> None:
    _fixture(c)
    _table(c, c.k("k"), "VERSION", {"1": {"version": 1}, "2": {"version": 2}, "3": {"version": 3}})


@case
def case_txn_compare_create_revision(c: Conn) -> None:
    a, _ = _fixture(c)
    ops = {"A-1": {"create_revision": a - 1}, "A": {"create_revision": a}, "A+1": {"create_revision": a + 1}}
    _table(c, c.k("k"), "CREATE", ops)


@case
def case_txn_compare_mod_revision(c: Conn) -> None:
    _, b = _fixture(c)
    ops = {"B-1": {"mod_revision": b - 1}, "B": {"mod_revision": b}, "B+1": {"mod_revision": b + 1}}
    _table(c, c.k("k"), "MOD", ops)


@case
def case_txn_compare_value(c: Conn) -> None:
    _fixture(c)
    values = ("", "v", "v1", "v2", "v20", "v3", "w")
    _table(c, c.k("k"), "VALUE", {repr(v): {"value": v.encode()} for v in values})


@case
def case_txn_compare_lease(c: Conn) -> None:
    lid = grant(c)
    try:
        _fixture(c, lid)
        ops = {"0": {"lease": 0}, "L-1": {"lease": lid - 1}, "L": {"lease": lid}, "L+1": {"lease": lid + 1}}
        _table(c, c.k("k"), "LEASE", ops)
        put(c, "nolease", b"x")
        _table(c, c.k("nolease"), "LEASE", {"0 (no lease)": {"lease": 0}, "L (no lease)": {"lease": lid}})
    finally:
        revoke(c, lid)


@case
def case_txn_compare_missing_key(c: Conn) -> None:
    # A missing key compares as a zero KeyValue, except VALUE compares, which always fail.
    key = c.k("missing")
    _table(c, key, "VERSION", {"0": {"version": 0}, "1": {"version": 1}})
    _table(c, key, "CREATE", {"0": {"create_revision": 0}, "1": {"create_revision": 1}})
    _table(c, key, "MOD", {"0": {"mod_revision": 0}, "1": {"mod_revision": 1}})
    _table(c, key, "VALUE", {"''": {"value": b""}, "'x'": {"value": b"x"}})
    _table(c, key, "LEASE", {"0": {"lease": 0}, "1": {"lease": 1}})


@case
def case_txn_compare_deleted_key(c: Conn) -> None:
    put(c, "d", b"x")
    c.call(c.kv.DeleteRange, pb.DeleteRangeRequest(key=c.k("d")), "delete d")
    _table(c, c.k("d"), "VERSION", {"0": {"version": 0}})
    _table(c, c.k("d"), "VALUE", {"'x'": {"value": b"x"}})


@case
def case_txn_compare_empty_value(c: Conn) -> None:
    put(c, "e", b"")
    _table(c, c.k("e"), "VALUE", {"''": {"value": b""}, "'a'": {"value": b"a"}})
    # No operand at all: compares against the zero value of the target.
    _table(c, c.k("e"), "VALUE", {"unset": {}})
    _table(c, c.k("e"), "VERSION", {"unset": {}})


@case
def case_txn_compare_operand_of_another_target(c: Conn) -> None:
    put(c, "k", b"5")
    # target VERSION but the union holds a value: the version is compared with 0.
    _table(c, c.k("k"), "VERSION", {"value='5'": {"value": b"5"}})
    # target VALUE but the union holds a version: the value is compared with b"".
    _table(c, c.k("k"), "VALUE", {"version=1": {"version": 1}})


@case
def case_txn_compare_range(c: Conn) -> None:
    put(c, "r/a", b"x")
    put(c, "r/b", b"x")
    put(c, "r/b", b"x")
    put(c, "r/c", b"y")
    key, end = prefix(c, "r/")
    _table(c, key, "VERSION", {"0": {"version": 0}, "1": {"version": 1}, "2": {"version": 2}, "3": {"version": 3}}, end)
    _table(c, key, "VALUE", {"'x'": {"value": b"x"}, "'y'": {"value": b"y"}, "'z'": {"value": b"z"}}, end)
    _table(c, key, "VALUE", {"'x' over [a, c)": {"value": b"x"}}, c.k("r/c"))
    key, end = prefix(c, "empty/")
    _table(c, key, "VERSION", {"0 on an empty range": {"version": 0}}, end)
    _table(c, key, "VALUE", {"'' on an empty range": {"value": b""}}, end)


@case
def case_txn_compares_are_anded(c: Conn) -> None:
    put(c, "a", b"1")
    put(c, "b", b"2")
    eq = Result.EQUAL
    va, vb = Target.VALUE, Target.VALUE
    both = [pb.Compare(key=c.k("a"), target=va, result=eq, value=b"1"), pb.Compare(key=c.k("b"), target=vb, value=b"2")]
    c.record(_succeeded(c, both), "both true")
    one = [pb.Compare(key=c.k("a"), target=va, result=eq, value=b"1"), pb.Compare(key=c.k("b"), target=vb, value=b"3")]
    c.record(_succeeded(c, one), "one false")
    c.record(_succeeded(c, []), "no compares")


@case
def case_txn_compare_unknown_enums(c: Conn) -> None:
    put(c, "k", b"v")
    key = c.k("k")
    c.record(_succeeded(c, [pb.Compare(key=key, target=Target.VALUE, result=9, value=b"zzz")]), "result=9")  # type: ignore[arg-type]
    c.record(_succeeded(c, [pb.Compare(key=key, target=9, result=Result.EQUAL, version=5)]), "target=9 EQUAL")  # type: ignore[arg-type]
    c.record(_succeeded(c, [pb.Compare(key=key, target=9, result=Result.GREATER, version=5)]), "target=9 GREATER")  # type: ignore[arg-type]


@case(fresh=True)
def case_txn_compare_from_key_range(c: Conn) -> None:
    put(c, "a", b"x")
    put(c, "b", b"x")
    put(c, "c", b"y")
    _table(c, c.k("b"), "VALUE", {"'x' from b": {"value": b"x"}, "'y' from c": {"value": b"y"}}, b"\x00")
    _table(c, c.k("c"), "VALUE", {"'y' from c": {"value": b"y"}}, b"\x00")
    _table(c, b"\x00", "VERSION", {"1 over all keys": {"version": 1}}, b"\x00")
    _table(c, c.k("d"), "CREATE", {"0 past the last key": {"create_revision": 0}}, b"\x00")
