"""``AsyncClient``: the asyncio client for any etcd v3 server.

Usage::

    async with AsyncClient(endpoints=["127.0.0.1:2379"]) as client:
        await client.put(b"k", b"v")
        resp = await client.get(b"k")
        watch = await client.watch(b"k", prefix=True)
        async for batch in watch:
            ...

Contract: every method raises only ``EtcdError`` subclasses (plus the
caller's own ``asyncio.CancelledError``); a closed client raises
``ClientClosedError`` at once; ``close()`` cancels and awaits every task
the client started (watch stream, keep-alives) and closes every channel.
Connection state (``state``) follows ``_protocol.connection``; listeners
added with ``add_state_listener`` are called on the event loop on each
change and must not block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from etcdkit.client._admin import AdminMixin
from etcdkit.client._convert import Namespace
from etcdkit.client._kv import KVMixin
from etcdkit.client._lease import LeaseKeeper, LeaseMixin
from etcdkit.client._protocol.connection import ConnectionState
from etcdkit.client._protocol.watch_core import WatchSpec
from etcdkit.client._transport import Transport
from etcdkit.client._watcher import Watch, WatchHub
from etcdkit.client.config import ClientConfig
from etcdkit.client.exceptions import DeadlineExceededError, LeaseKeepAliveLostError
from etcdkit.client.txn import range_end_for

__all__ = ["AsyncClient"]

log = logging.getLogger("etcdkit.client")


class AsyncClient(KVMixin, LeaseMixin, AdminMixin):
    """The asyncio etcd client. Build with a ``ClientConfig`` or its fields as keywords."""

    def __init__(self, config: ClientConfig | None = None, **kwargs: Any) -> None:
        if config is None:
            if "endpoints" in kwargs and not isinstance(kwargs["endpoints"], str):
                kwargs["endpoints"] = tuple(kwargs["endpoints"])
            config = ClientConfig(**kwargs)
        elif kwargs:
            raise TypeError("pass either a ClientConfig or keywords, not both")
        self.config = config
        self._listeners: list[Callable[[ConnectionState], None]] = []
        self._transport = Transport(config, self._state_changed)
        self._ns = Namespace(config.namespace)
        self._hub: WatchHub | None = None
        self._keepers: set[LeaseKeeper] = set()

    # --- lifecycle -----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop watches and keep-alives, close channels. Idempotent."""
        if self._transport.closed:
            return
        if self._hub is not None:
            await self._hub.close()
        for k in list(self._keepers):
            await k.close()
        self._keepers.clear()
        await self._transport.close()

    @property
    def closed(self) -> bool:
        return self._transport.closed

    # --- connection state ------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._transport.tracker.state

    @property
    def endpoint(self) -> str:
        """The endpoint currently in use."""
        return self._transport.picker.current

    def add_state_listener(self, listener: Callable[[ConnectionState], None]) -> None:
        self._listeners.append(listener)

    def remove_state_listener(self, listener: Callable[[ConnectionState], None]) -> None:
        self._listeners.remove(listener)

    def _state_changed(self, state: ConnectionState) -> None:
        for cb in list(self._listeners):
            try:
                cb(state)
            except Exception:  # a listener's bug must not break the client
                log.exception("connection state listener failed")

    # --- lease keep-alive bookkeeping --------------------------------------------------

    async def keep_alive(
        self, lease_id: int, ttl: int, *, on_lost: Callable[[LeaseKeepAliveLostError], None] | None = None
    ) -> LeaseKeeper:
        """Start keeping ``lease_id`` alive; the client closes the keeper when it closes."""
        keeper = await super().keep_alive(lease_id, ttl, on_lost=on_lost)
        self._keepers.add(keeper)
        return keeper

    # --- watch ---------------------------------------------------------------------------

    async def watch(
        self,
        key: bytes,
        *,
        range_end: bytes | None = None,
        prefix: bool = False,
        from_key: bool = False,
        start_revision: int = 0,
        prev_kv: bool = False,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
        fragment: bool = False,
        resync: bool = False,
        timeout: float | None = None,
    ) -> Watch:
        """Watch a key or range; returns once the server has created the watch.

        ``start_revision=0`` watches from now: every change after ``watch()``
        returns is delivered. The watch survives stream failures (see
        docs/client.md). With ``resync=True`` a compaction past the watch's
        position is healed by re-reading the range (synthetic events and a
        batch with ``resync=True``) instead of raising ``WatchCompactedError``.
        """
        self._transport.check_open()
        end = range_end_for(key, range_end, prefix, from_key)
        known: dict[bytes, int] | None = None
        if resync:
            # Seed the key map the resync diff needs, at the revision the watch starts from.
            if start_revision == 1:
                known = {}  # nothing exists before revision 1
            else:
                seed = await self.get(key, range_end=end or None, keys_only=True, revision=max(0, start_revision - 1))
                known = {kv.key: kv.mod_revision for kv in seed.kvs}
                if start_revision == 0:
                    start_revision = seed.header.revision + 1
        spec = WatchSpec(
            key=self._ns.key(key),
            range_end=self._ns.range_end(key, end),
            start_revision=start_revision,
            prev_kv=prev_kv,
            no_put=no_put,
            no_delete=no_delete,
            progress_notify=progress_notify,
            fragment=fragment,
            resync=resync,
        )
        if self._hub is None:
            self._hub = WatchHub(self._transport, self._ns)
        w = self._hub.add(spec, known)
        budget = timeout if timeout is not None else self.config.request_timeout
        try:
            await self._hub.wait_created(w, budget)
        except TimeoutError:
            await w.close()
            raise DeadlineExceededError(f"watch not created within {budget}s") from None
        return w
