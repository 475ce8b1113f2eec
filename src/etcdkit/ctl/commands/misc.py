"""version, and the etcdctl commands etcdkit does not implement (make-mirror, migrate, check datascale)."""

from __future__ import annotations

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_FEATURE, CtlError

__all__ = ["unsupported", "version"]


def version(ctx: Context) -> int:
    ctx.out("etcdctl version: 3.4.23\nAPI version: 3.4\n")
    return 0


def unsupported(ctx: Context) -> int:
    name = " ".join(ctx.inv.command.path())
    raise CtlError(EXIT_BAD_FEATURE, f"{name} is not supported by etcdkit")
