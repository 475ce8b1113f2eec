"""``etcdkit`` entry point: ``etcdkit serve ...`` runs a server with etcd's flags;
every other sub-command is the etcdctl-compatible CLI. Imports are lazy so each
path pays only for what it uses."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import NoReturn

__all__ = ["main", "run"]


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the server (``serve``) or the etcdctl-compatible CLI; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "serve":
        from etcdkit.server.main import main as serve_main

        return serve_main(args[1:])
    try:
        from etcdkit.ctl.main import main as ctl_main  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the CLI package is optional until it lands
        sys.stderr.write("usage: etcdkit serve [etcd flags]\n")
        return 2
    return int(ctl_main(args))


def run() -> NoReturn:
    """The ``etcdkit`` command (console script and ``python -m etcdkit``): run ``main`` and end the process.

    A CLI command ends the process the way etcdctl does: once the command has returned and its
    output is flushed, nothing else runs (``os._exit``). Interpreter shutdown would otherwise
    garbage-collect the command's gRPC calls while gRPC's own daemon threads (request senders, the
    channel poller) may be frozen holding a call's lock, and wait for that lock forever: the
    command has printed everything and never exits (seen with ``watch -i`` on a loaded machine,
    about once in a hundred runs). The commands cancel their streams and join their own threads
    before they return (``etcdkit.ctl._calls``), so no work is cut short. ``serve`` exits normally:
    the server has stopped its threads and closed its files when ``main`` returns.
    """
    args = sys.argv[1:]
    code = main(args)
    if args and args[0] == "serve":
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream: nothing more can be written
            stream.flush()
    os._exit(code & 0xFF)


if __name__ == "__main__":
    run()
