"""``watch``: stream events for a key/range/prefix, optionally running a command per event, or read
``watch ...`` lines from stdin (``-i``). Output per response through the chosen printer, as etcdctl 3.4.

Exec mode (``watch k -- cmd args``) runs ``cmd`` once per event with ``ETCD_WATCH_REVISION``,
``ETCD_WATCH_EVENT_TYPE``, ``ETCD_WATCH_KEY`` and ``ETCD_WATCH_VALUE`` (Go-quoted) in its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from etcdkit.ctl._calls import JOIN_TIMEOUT, CallSet, responses
from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_INTERRUPTED, EXIT_INVALID_INPUT, CtlError
from etcdkit.ctl.commands._args import arg_bytes
from etcdkit.ctl.printers._gofmt import go_quote
from etcdkit.ctl.printers.simple import EVENT_TYPES

__all__ = ["watch", "watch_request"]

_BAD_NUM = "bad number of arguments"


def watch_request(args: list[str], values: dict[str, Any]) -> Any:
    """The WatchCreateRequest for ``args`` = [key, [range_end]] (etcdctl's ``getWatchChan``)."""
    from etcdkit.api.keys import FROM_KEY, prefix_end
    from etcdkit.api.pb import rpc_pb2

    if len(args) < 1:
        raise ValueError(_BAD_NUM)
    key = arg_bytes(args[0])
    end = b""
    if len(args) == 2:
        if values["prefix"]:
            raise ValueError("`range_end` and `--prefix` are mutually exclusive")
        end = arg_bytes(args[1])
    if values["prefix"]:
        if not key:
            key, end = FROM_KEY, FROM_KEY
        else:
            end = prefix_end(key)
    return rpc_pb2.WatchRequest(create_request=rpc_pb2.WatchCreateRequest(
        key=key, range_end=end, start_revision=values["rev"], prev_kv=values["prev-kv"],
        progress_notify=bool(values.get("progress-notify"))))


def _stream(ctx: Context, req: Any, stop: threading.Event, calls: CallSet | None = None) -> Iterator[Any]:
    """The responses of one Watch stream for ``req``. The request stream stays open until ``stop`` is set.
    The call is cancelled when the generator is closed, and, if given, registered in ``calls`` for a
    reader in another thread (see ``etcdkit.ctl._calls``)."""
    conn = ctx.conn()
    conn.authenticate()

    def requests() -> Iterator[Any]:
        yield req
        stop.wait()

    call = conn.stub("Watch").Watch(requests(), metadata=[*conn.metadata, ("hasleader", "true")])
    yield from responses(call, calls)


def _run_exec(ctx: Context, resp: Any, exec_args: list[str]) -> None:
    for ev in resp.events:
        env = dict(os.environ)
        env["ETCD_WATCH_REVISION"] = str(resp.header.revision)
        env["ETCD_WATCH_EVENT_TYPE"] = go_quote(EVENT_TYPES.get(ev.type, str(ev.type)))
        env["ETCD_WATCH_KEY"] = go_quote(ev.kv.key)
        env["ETCD_WATCH_VALUE"] = go_quote(ev.kv.value)
        try:
            rc = subprocess.call(exec_args, env=env)
            err = None if rc == 0 else f"exit status {rc}"
        except OSError as exc:
            err = f'exec: "{exec_args[0]}": {exc.strerror.lower() if exc.strerror else exc}'
        if err is not None:
            ctx.err(f"command {_go_slice_q(exec_args)} error ({err})\n")
            raise CtlError(1, None)


def _go_slice_q(items: list[str]) -> str:
    return "[" + " ".join(go_quote(i) for i in items) + "]"


def _print_loop(ctx: Context, req: Any, exec_args: list[str], stop: threading.Event,
                calls: CallSet | None = None) -> None:
    for resp in _stream(ctx, req, stop, calls):
        if resp.created and not resp.events and not resp.canceled:
            continue
        if resp.canceled:
            reason = resp.cancel_reason or ("etcdserver: mvcc: required revision has been compacted"
                                            if resp.compact_revision else "")
            ctx.err(f"watch was canceled ({reason})\n")
        ctx.print("watch", resp)
        if exec_args:
            _run_exec(ctx, resp, exec_args)
        if resp.canceled:
            return


def _quiet_loop(ctx: Context, req: Any, exec_args: list[str], stop: threading.Event, calls: CallSet) -> None:
    """An interactive watcher thread: a stream cancelled because the command is ending is not an error."""
    try:
        _print_loop(ctx, req, exec_args, stop, calls)
    except Exception as exc:
        if not stop.is_set():
            details = getattr(exc, "details", None)
            ctx.err(f"watch error: {(details() if callable(details) else None) or exc}\n")


def watch(ctx: Context) -> int:
    env_key = os.environ.get("ETCDCTL_WATCH_KEY", "")
    env_range = os.environ.get("ETCDCTL_WATCH_RANGE_END", "")
    if not env_key and env_range:
        raise CtlError(EXIT_BAD_ARGS,
                       f"ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END={go_quote(env_range)}")
    if ctx.values["interactive"]:
        return _interactive(ctx, env_key, env_range)
    dash = ctx.inv.args_len_at_dash
    args = list(ctx.args)
    exec_args: list[str] = []
    if dash >= 0:
        exec_args = args[dash:]
        args = args[:dash]
        if not exec_args:
            raise CtlError(EXIT_BAD_ARGS, "bad number of arguments (found separator --, but no commands)")
    if env_key:
        if args:
            raise CtlError(EXIT_BAD_ARGS, "bad number of arguments (found conflicting environment key)")
        args = [env_key] + ([env_range] if env_range else [])
    try:
        req = watch_request(args, ctx.values)
    except ValueError as exc:
        raise CtlError(EXIT_BAD_ARGS, str(exc)) from None
    stop = threading.Event()
    try:
        _print_loop(ctx, req, exec_args, stop)
    finally:
        stop.set()
    raise CtlError(EXIT_INTERRUPTED, "watch is canceled by the server")


def _interactive(ctx: Context, env_key: str, env_range: str) -> int:
    from etcdkit.ctl._cli import UsageError, _help_flag, parse_flags
    from etcdkit.ctl.commands._lineparse import argify

    cmd = ctx.inv.command
    stop = threading.Event()
    calls = CallSet()
    readers: list[threading.Thread] = []
    ctx.settings()
    try:
        while True:
            raw = sys.stdin.buffer.readline()
            if not raw.endswith(b"\n"):
                raise CtlError(EXIT_INVALID_INPUT, "Error reading watch request line: EOF")
            line = raw[:-1].decode("utf-8", "surrogateescape")
            args = argify(line)
            if not args:
                ctx.err(f"Invalid command: {line} (watch and progress supported)\n")
                continue
            if args[0] != "watch":
                ctx.err(f"Invalid command {line} (only support watch)\n")
                continue
            if len(args) < 2 and not env_key:
                ctx.err(f"Invalid command {line} (command type or key is not provided)\n")
                continue
            try:
                inv = parse_flags(cmd, args[1:], [*cmd.flags, _help_flag(cmd)])
            except UsageError as exc:
                raise CtlError(EXIT_BAD_ARGS, str(exc)) from None
            wargs = list(inv.args)
            exec_args: list[str] = []
            if inv.args_len_at_dash >= 0:
                exec_args, wargs = wargs[inv.args_len_at_dash :], wargs[: inv.args_len_at_dash]
            if env_key:
                wargs = [env_key] + ([env_range] if env_range else []) + wargs
            try:
                req = watch_request(wargs, inv.values)
            except ValueError as exc:
                ctx.err(f"Invalid command {line} ({exc})\n")
                continue
            reader = threading.Thread(target=_quiet_loop, args=(ctx, req, exec_args, stop, calls), daemon=True)
            reader.start()
            readers.append(reader)
    finally:
        stop.set()
        calls.cancel_all()
        for reader in readers:  # bounded: a reader ends once its call is cancelled (or its dial fails)
            reader.join(JOIN_TIMEOUT)
