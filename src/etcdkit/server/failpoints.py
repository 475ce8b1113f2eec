"""Failpoints: crash the server at chosen durability boundaries (tests only).

Armed with ``ETCDKIT_FAILPOINTS="name=action[@n],..."`` at start, where action
is ``exit`` (``os._exit(97)``, like a crash: no cleanup, nothing flushed) and
``@n`` fires on the n-th hit (default 1). Unarmed, ``hit()`` is a dict lookup.

Points: ``walAfterAppend`` (entries durable in the WAL, not yet applied),
``applyAfterCommit`` (applied in LMDB, not yet acknowledged).
"""

from __future__ import annotations

import os

__all__ = ["ARMED", "hit"]


def _parse(spec: str) -> dict[str, tuple[str, int]]:
    out: dict[str, tuple[str, int]] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, action = item.partition("=")
        action, _, nth = action.partition("@")
        out[name] = (action or "exit", int(nth or 1))
    return out


ARMED = _parse(os.environ.get("ETCDKIT_FAILPOINTS", ""))
_hits: dict[str, int] = {}


def hit(name: str) -> None:
    """Pass the failpoint ``name``; act if it is armed and this is the chosen hit."""
    if name not in ARMED:
        return
    _hits[name] = _hits.get(name, 0) + 1
    action, nth = ARMED[name]
    if _hits[name] == nth and action == "exit":
        os._exit(97)
