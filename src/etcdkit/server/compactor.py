"""Auto compaction (``--auto-compaction-mode`` / ``--auto-compaction-retention``).

* ``periodic``: retention is hours (``"1"``) or a duration (``"30m"``); every
  ``min(retention, 1h)`` the store is compacted to the revision it had
  ``retention`` ago, keeping that window of history;
* ``revision``: retention N; every 5 minutes compact to ``current - N``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque

from etcdkit.api.pb import rpc_pb2
from etcdkit.server.errors import EtcdServerError
from etcdkit.server.etcdserver import EtcdServer

__all__ = ["retention_seconds", "start_auto_compaction"]

log = logging.getLogger("etcdkit.server.compactor")
REVISION_MODE_INTERVAL = 300.0


def retention_seconds(text: str) -> float:
    from etcdkit.server.main import parse_duration

    try:
        return float(int(text)) * 3600.0
    except ValueError:
        return parse_duration(text)


def start_auto_compaction(server: EtcdServer) -> None:
    cfg = server.config
    if cfg.auto_compaction_retention in ("", "0"):
        return
    if cfg.auto_compaction_mode == "revision":
        server.add_task(_revision_mode(server, int(cfg.auto_compaction_retention)), "etcdkit-compactor")
    else:
        server.add_task(_periodic_mode(server, retention_seconds(cfg.auto_compaction_retention)), "etcdkit-compactor")


async def _compact(server: EtcdServer, rev: int) -> None:
    if rev <= server.compact_revision():
        return
    with contextlib.suppress(EtcdServerError):
        await server.compact(rpc_pb2.CompactionRequest(revision=rev))
        log.info("auto-compacted at revision %d", rev)


async def _revision_mode(server: EtcdServer, keep: int) -> None:
    while True:
        await asyncio.sleep(REVISION_MODE_INTERVAL)
        target = server.current_revision() - keep
        if target > 0:
            await _compact(server, target)


async def _periodic_mode(server: EtcdServer, retention: float) -> None:
    interval = min(retention, 3600.0) / 10
    samples: deque[tuple[float, int]] = deque()
    while True:
        now = time.monotonic()
        samples.append((now, server.current_revision()))
        target = 0
        while samples and now - samples[0][0] >= retention:
            target = samples.popleft()[1]
        if target:
            await _compact(server, target)
        await asyncio.sleep(interval)
