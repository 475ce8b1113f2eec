"""``etcdkit <command>``: the etcdctl-compatible CLI entry point.

``main(argv)`` returns the process exit code. Flow: parse with cobra's rules
(``_cli``), print help/usage where cobra would, import the command's handler
module lazily (so ``etcdkit get`` pays only for gRPC and the KV stubs), run it
and turn ``CtlError``/RPC failures into etcdctl's ``Error: ...`` lines and exit
codes. Python tracebacks are shown only with ``--debug``.
``etcdkit bench ...`` is forwarded to ``etcdkit.bench.main`` when installed.
"""

from __future__ import annotations

import importlib
import sys

__all__ = ["main"]


def _bench(argv: list[str]) -> int:
    try:
        mod = importlib.import_module("etcdkit.bench.main")
    except ImportError:
        sys.stderr.write("Error: etcdkit bench is not available in this installation (etcdkit.bench not found)\n")
        return 1
    return int(mod.main(argv))


def _write(stream: str, text: str) -> None:
    target = sys.stdout if stream == "out" else sys.stderr
    target.buffer.write(text.encode("utf-8", "surrogateescape"))
    target.buffer.flush()


def main(argv: list[str]) -> int:
    """Run one etcdctl-style command line; return the exit code."""
    if argv and argv[0] == "bench":
        return _bench(argv[1:])
    try:
        return _main(argv)
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130


def _help_topic(args: list[str]) -> int:
    from etcdkit.ctl._cli import UsageError, find, render_help
    from etcdkit.ctl._spec import ROOT

    try:
        cmd, _ = find(args)
    except UsageError:
        cmd = ROOT
    if args and cmd is ROOT:
        _write("err", "Unknown help topic [" + " ".join(f"`{a}`" for a in args) + "]\n")
        _write("out", render_help(ROOT, with_help_flag=False))
        return 0
    _write("out", render_help(cmd))
    return 0


def _main(argv: list[str]) -> int:
    from etcdkit.ctl._cli import UsageError, parse, render_help
    from etcdkit.ctl._exit import CtlError
    from etcdkit.ctl._spec import ROOT

    try:
        inv = parse(argv)
    except UsageError as exc:
        msg = str(exc)
        if exc.show_usage:
            _write("out", render_help(exc.command))
            _write("err", f"Error: {msg}\n\nError: {msg}\n")
        else:
            _write("err", f"Error: {msg}\nRun 'etcdctl --help' for usage.\nError: {msg}\n")
        return 1
    cmd = inv.command
    if inv.help or (not cmd.handler and cmd.children) or cmd is ROOT:
        _write("out", render_help(cmd))
        return 0
    if cmd.handler == "help":
        return _help_topic(inv.args)
    module, _, func = cmd.handler.partition(":")
    debug = bool(inv.values.get("debug"))
    from etcdkit.ctl._context import Context

    ctx = Context(inv)
    try:
        handler = getattr(importlib.import_module(f"etcdkit.ctl.commands.{module}"), func)
        return int(handler(ctx) or 0)
    except CtlError as exc:
        if exc.message is not None:
            _write("err", f"Error: {exc.message}\n")
        return exc.code
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _write("err", f"Error: {getattr(exc, 'text', None) or exc}\n")
        return int(getattr(exc, "exit_code", 1))
    finally:
        ctx.close()
