"""get, put, del and compaction: argument checks, request building and printing as etcdctl 3.4."""

from __future__ import annotations

import sys
from typing import Any, cast

from etcdkit.api.keys import FROM_KEY, prefix_end
from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_BAD_FEATURE, EXIT_ERROR, CtlError
from etcdkit.ctl.commands._args import arg_bytes, go_parse_int

__all__ = ["compaction", "delete", "delete_request", "get", "put", "put_request", "range_request"]

_SORT_TARGETS = {"CREATE": 2, "KEY": 0, "MODIFY": 3, "VALUE": 4, "VERSION": 1}
_BOTH = "`--prefix` and `--from-key` cannot be set at the same time, choose one"
_TOO_MANY = "too many arguments, only accept one argument when `--prefix` or `--from-key` is set"


def _key_range(key: bytes, end: bytes | None, prefix: bool, from_key: bool) -> tuple[bytes, bytes]:
    range_end = end or b""
    if prefix:
        if not key:
            key, range_end = FROM_KEY, FROM_KEY
        else:
            range_end = prefix_end(key)
    if from_key:
        if not key:
            key = FROM_KEY
        range_end = FROM_KEY
    return key, range_end


def range_request(ctx: Any) -> Any:
    """Build the RangeRequest for ``get`` (validation errors as etcdctl's ``getGetOp``)."""
    from etcdkit.api.pb import rpc_pb2

    v, args = ctx.values, ctx.args
    if not args:
        raise CtlError(EXIT_BAD_ARGS, "get command needs one argument as key and an optional argument as range_end")
    if v["prefix"] and v["from-key"]:
        raise CtlError(EXIT_BAD_ARGS, _BOTH)
    serializable = False
    if v["consistency"] == "s":
        serializable = True
    elif v["consistency"] != "l":
        raise CtlError(EXIT_BAD_FEATURE, f'unknown consistency flag "{v["consistency"]}"')
    end = None
    if len(args) > 1:
        if v["prefix"] or v["from-key"]:
            raise CtlError(EXIT_BAD_ARGS, _TOO_MANY)
        end = arg_bytes(args[1])
    order_text = v["order"].upper()
    orders = {"ASCEND": 1, "DESCEND": 2, "": 0}
    if order_text not in orders:
        raise CtlError(EXIT_BAD_FEATURE, f"bad sort order {v['order']}")
    target_text = v["sort-by"].upper()
    if target_text and target_text not in _SORT_TARGETS:
        raise CtlError(EXIT_BAD_FEATURE, f"bad sort target {v['sort-by']}")
    order = orders[order_text]
    target = _SORT_TARGETS.get(target_text, 0)
    if target == 0 and order == 1:  # clientv3.WithSort: ascending by key is the natural order
        order = 0
    key, range_end = _key_range(arg_bytes(args[0]), end, v["prefix"], v["from-key"])
    return rpc_pb2.RangeRequest(
        key=key, range_end=range_end, limit=v["limit"], revision=max(v["rev"], 0), sort_order=cast(Any, order),
        sort_target=cast(Any, target), serializable=serializable, keys_only=v["keys-only"], count_only=v["count-only"],
    )


def get(ctx: Context) -> int:
    req = range_request(ctx)
    resp = ctx.conn().unary("KV", "Range", req)
    if ctx.values["count-only"] and ctx.display.format == "simple":  # etcdctl 3.5 extension
        ctx.out(f"{resp.count}\n")
        return 0
    if ctx.values["print-value-only"] and ctx.display.format != "simple":
        raise CtlError(EXIT_BAD_ARGS, "print-value-only is only for `--write-out=simple`")
    ctx.print("get", resp)
    return 0


def _read_stdin() -> bytes:
    try:
        return sys.stdin.buffer.read()
    except (OSError, ValueError, AttributeError):
        return b""


def put(ctx: Context) -> int:
    resp = ctx.conn().unary("KV", "Put", put_request(ctx))
    ctx.print("put", resp)
    return 0


def put_request(ctx: Any) -> Any:
    """Build the PutRequest for ``put`` (etcdctl's ``getPutOp``)."""
    from etcdkit.api.pb import rpc_pb2

    v, args = ctx.values, ctx.args
    usage = "put command needs 1 argument and input from stdin or 2 arguments"
    if not args:
        raise CtlError(EXIT_BAD_ARGS, usage)
    if v["ignore-value"] and len(args) > 1:
        raise CtlError(EXIT_BAD_ARGS, "put command needs only 1 argument when 'ignore-value' is set")
    value = b""
    if not v["ignore-value"]:
        if len(args) > 1:
            value = arg_bytes(args[1])
        else:
            value = _read_stdin()
            if not value:
                raise CtlError(EXIT_BAD_ARGS, usage)
    try:
        lease = go_parse_int(v["lease"], 16)
    except ValueError as exc:
        raise CtlError(EXIT_BAD_ARGS, f"bad lease ID ({exc}), expecting ID in Hex") from None
    return rpc_pb2.PutRequest(key=arg_bytes(args[0]), value=value, lease=lease, prev_kv=v["prev-kv"],
                              ignore_value=v["ignore-value"], ignore_lease=v["ignore-lease"])


def delete(ctx: Context) -> int:
    resp = ctx.conn().unary("KV", "DeleteRange", delete_request(ctx))
    ctx.print("delete", resp)
    return 0


def delete_request(ctx: Any) -> Any:
    """Build the DeleteRangeRequest for ``del`` (etcdctl's ``getDelOp``)."""
    from etcdkit.api.pb import rpc_pb2

    v, args = ctx.values, ctx.args
    if not args or len(args) > 2:
        raise CtlError(EXIT_BAD_ARGS, "del command needs one argument as key and an optional argument as range_end")
    if v["prefix"] and v["from-key"]:
        raise CtlError(EXIT_BAD_ARGS, _BOTH)
    end = None
    if len(args) > 1:
        if v["prefix"] or v["from-key"]:
            raise CtlError(EXIT_BAD_ARGS, _TOO_MANY)
        end = arg_bytes(args[1])
    key, range_end = _key_range(arg_bytes(args[0]), end, v["prefix"], v["from-key"])
    return rpc_pb2.DeleteRangeRequest(key=key, range_end=range_end, prev_kv=v["prev-kv"])


def compaction(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "compaction command needs 1 argument")
    try:
        rev = go_parse_int(ctx.args[0])
    except ValueError as exc:
        raise CtlError(EXIT_ERROR, str(exc)) from None
    ctx.conn().unary("KV", "Compact", rpc_pb2.CompactionRequest(revision=rev, physical=ctx.values["physical"]))
    ctx.out(f"compacted revision {rev}\n")
    return 0
