"""``etcdkit`` entry point: ``etcdkit serve ...`` runs a server with etcd's flags;
every other sub-command is the etcdctl-compatible CLI. Imports are lazy so each
path pays only for what it uses."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch to the server (``serve``) or the etcdctl-compatible CLI."""
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


if __name__ == "__main__":
    raise SystemExit(main())
