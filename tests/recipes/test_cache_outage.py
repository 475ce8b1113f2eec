"""Cache with a live watch, cut off from the server by a network partition (a TCP proxy) while
the prefix changes and the history is compacted past the cache's revision: on reconnect it must
relist, emit synthetic events for exactly the differences, be fresh again and serve the new state.

(The compaction case of ``test_cache.py`` goes through a restart from the snapshot file; this one
keeps the process, the cache and its watch alive across the outage.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from etcdkit.client import AsyncClient, ClientConfig, Event, EventType, WatchConfig
from etcdkit.recipes import AsyncCache
from etcdkit.testing import ServerProcess
from tests.client.conftest import run
from tests.client.proxy import TcpProxy

FAST = WatchConfig(progress_interval=0.3, stall_timeout=1.0, backoff_initial=0.05, backoff_max=0.3)


def _config(endpoint: str) -> ClientConfig:
    return ClientConfig(endpoints=(endpoint,), dial_timeout=1.0, request_timeout=2.0, watch=FAST)


def test_compaction_during_outage_on_live_watch(make_server: Callable[..., ServerProcess], prefix: bytes) -> None:
    srv = make_server()
    p = prefix
    P, D = EventType.PUT, EventType.DELETE

    async def body() -> None:
        with TcpProxy(srv.client_port) as proxy:
            async with AsyncClient(_config(proxy.endpoint)) as c, AsyncClient(_config(srv.endpoint)) as direct:
                for k in (b"keep", b"change", b"rewrite", b"gone", b"recreate"):
                    await direct.put(p + k, b"v0")
                await direct.put(b"/outside-" + p, b"x")  # outside the prefix: never seen
                cache = AsyncCache(c, p, retry_interval=0.1)
                events: list[Event] = []
                cache.add_listener(events.append)
                await cache.start(timeout=10)
                assert cache.relists == 1
                live = await direct.put(p + b"change", b"v1")  # through the live watch
                await cache.wait_for(lambda: cache.revision >= live.header.revision, timeout=10)
                assert [(e.type, e.kv.key, e.kv.value, e.synthetic) for e in events[-1:]] == [
                    (P, p + b"change", b"v1", False)
                ]
                before = cache.revision
                events.clear()

                proxy.cut()
                await cache.wait_for(lambda: cache.stale, timeout=20)
                assert cache.get(p + b"change") == b"v1"  # serves the last known state meanwhile

                await direct.put(p + b"change", b"v2")  # modified
                await direct.put(p + b"rewrite", b"v0")  # same value, new mod revision: a modification
                await direct.delete(p + b"gone")  # deleted
                await direct.delete(p + b"recreate")
                await direct.put(p + b"recreate", b"v9")  # deleted and created again
                await direct.put(p + b"added", b"new")  # created
                await direct.put(p + b"flash", b"x")
                await direct.delete(p + b"flash")  # created and deleted during the outage: no event
                last = await direct.put(b"/outside-" + p, b"y")
                await direct.compact(last.header.revision)
                assert cache.revision == before and not events  # nothing got through the cut

                lies: list[int] = []

                async def watch_claims() -> None:  # "fresh" must never be claimed with the old state
                    while cache.revision < last.header.revision:
                        if not cache.stale:
                            lies.append(cache.revision)
                        await asyncio.sleep(0.001)

                checker = asyncio.get_running_loop().create_task(watch_claims())
                proxy.heal()
                await cache.wait_for(lambda: not cache.stale and cache.revision >= last.header.revision, timeout=30)
                await asyncio.wait_for(checker, 5)
                assert lies == []  # it did not claim to be fresh while still holding the old state
                assert cache.relists == 2  # the watch could not resume from `before + 1`: relisted

                got = sorted((e.type.value, e.kv.key, e.kv.value) for e in events)
                assert got == sorted(
                    [
                        (P.value, p + b"change", b"v2"),
                        (P.value, p + b"rewrite", b"v0"),
                        (D.value, p + b"gone", b""),
                        (P.value, p + b"recreate", b"v9"),
                        (P.value, p + b"added", b"new"),
                    ]
                )
                assert all(e.synthetic for e in events)
                old = {e.kv.key: e.prev_kv for e in events}
                assert old[p + b"change"] is not None and old[p + b"change"].value == b"v1"
                assert old[p + b"added"] is None

                remote = await direct.get(p, prefix=True)
                assert cache.items() == [(kv.key, kv.value) for kv in remote.kvs]
                assert {kv.key: kv.mod_revision for kv in remote.kvs} == {
                    k: kv.mod_revision for k, kv in cache.core.data.items()
                }

                # Live again: the next change arrives through the new watch, not synthetic.
                events.clear()
                after = await direct.put(p + b"keep", b"v1")
                await cache.wait_for(lambda: cache.revision >= after.header.revision, timeout=10)
                assert [(e.type, e.kv.key, e.kv.value, e.synthetic) for e in events] == [(P, p + b"keep", b"v1", False)]
                assert not cache.stale and cache.relists == 2
                await cache.close()

    run(body())
