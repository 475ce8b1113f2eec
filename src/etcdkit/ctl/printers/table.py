"""``-w table``: tablewriter tables for the listing commands etcdctl 3.4 supports in table form."""

from __future__ import annotations

from typing import Any

from etcdkit.ctl.printers import simple
from etcdkit.ctl.printers._gofmt import humanize_bytes
from etcdkit.ctl.printers._layout import table

__all__ = ["db_status", "endpoint_hashkv", "endpoint_health", "endpoint_status", "member_list"]


def member_list(resp: Any) -> str:
    return table(*simple.member_list_rows(resp))


def endpoint_status(statuses: list[tuple[str, Any]]) -> str:
    return table(*simple.status_rows(statuses))


def endpoint_hashkv(hashes: list[tuple[str, Any]]) -> str:
    return table(["endpoint", "hash"], [[ep, str(r.hash)] for ep, r in hashes])


def endpoint_health(results: list[dict[str, Any]]) -> str:
    return table(
        ["endpoint", "health", "took", "error"],
        [[h["endpoint"], "true" if h["health"] else "false", h["took"], h.get("error", "")] for h in results],
    )


def db_status(st: dict[str, int]) -> str:
    return table(
        ["hash", "revision", "total keys", "total size"],
        [[f"{st['hash']:x}", str(st["revision"]), str(st["totalKey"]), humanize_bytes(st["totalSize"])]],
    )
