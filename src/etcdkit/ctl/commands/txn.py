"""``txn``: read compares, success ops and failure ops from stdin (blank-line separated) and commit."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_ERROR, EXIT_INVALID_INPUT, CtlError

__all__ = ["parse_op", "txn"]


@dataclass
class _OpArgs:
    """The slice of ``Context`` the request builders read."""

    values: dict[str, Any]
    args: list[str] = field(default_factory=list)


class _Lines:
    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def read(self) -> str:
        """Go's ``ReadString('\\n')`` + TrimSpace; EOF before a newline is an error (exit 3)."""
        line = self.stream.readline()
        if not line.endswith(b"\n"):
            raise CtlError(EXIT_INVALID_INPUT, "EOF")
        return str(line.decode("utf-8", "surrogateescape")).strip()


def parse_op(line: str) -> Any:
    """One ``get``/``put``/``del`` line to a RequestOp; ``ValueError`` for lines etcdctl rejects."""
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._cli import UsageError, _help_flag, parse_flags, stock_usage
    from etcdkit.ctl._spec import ROOT
    from etcdkit.ctl.commands import kv
    from etcdkit.ctl.commands._lineparse import argify

    args = argify(line)
    if len(args) < 2:
        raise ValueError(f"invalid txn compare request: {line}")
    names = {"get": "get", "put": "put", "del": "del"}
    matches = [n for n in names if n.startswith(args[0])]
    if len(matches) != 1 and args[0] not in names:
        raise ValueError(f"invalid txn request: {line}")
    cmd = ROOT.child(args[0] if args[0] in names else matches[0])
    assert cmd is not None
    try:
        inv = parse_flags(cmd, args[1:], [*cmd.flags, _help_flag(cmd)])
    except UsageError:
        sys.stderr.write(stock_usage(cmd))
        sys.stderr.flush()
        raise ValueError(f"invalid txn request: {line}") from None
    op = _OpArgs(inv.values, inv.args)
    if cmd.name == "get":
        return rpc_pb2.RequestOp(request_range=kv.range_request(op))
    if cmd.name == "put":
        return rpc_pb2.RequestOp(request_put=kv.put_request(op))
    return rpc_pb2.RequestOp(request_delete_range=kv.delete_request(op))


def txn(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl.commands._lineparse import GoPanicError, parse_compare

    if ctx.args:
        raise CtlError(EXIT_BAD_ARGS, "txn command does not accept argument")
    interactive = bool(ctx.values["interactive"])
    conn = ctx.conn()
    lines = _Lines(sys.stdin.buffer)

    def prompt(text: str) -> None:
        if interactive:
            ctx.out(text + "\n")

    prompt("compares:")
    compares = []
    while line := lines.read():
        try:
            compares.append(parse_compare(line))
        except ValueError as exc:
            raise CtlError(EXIT_INVALID_INPUT, str(exc)) from None
        except GoPanicError as exc:
            ctx.err(f"panic: {exc}\n")
            raise CtlError(2, None) from None
    blocks: list[list[Any]] = []
    for title in ("success requests (get, put, del):", "failure requests (get, put, del):"):
        prompt(title)
        ops = []
        while line := lines.read():
            try:
                ops.append(parse_op(line))
            except ValueError as exc:
                raise CtlError(EXIT_INVALID_INPUT, str(exc)) from None
        blocks.append(ops)
    req = rpc_pb2.TxnRequest(compare=compares, success=blocks[0], failure=blocks[1])
    try:
        resp = conn.unary("KV", "Txn", req, timeout=None)
    except CtlError:
        raise
    except Exception as exc:
        raise CtlError(EXIT_ERROR, getattr(exc, "text", str(exc))) from None
    ctx.print("txn", resp)
    return 0
