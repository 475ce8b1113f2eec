"""``AsyncElection``: leader election with clientv3's layout (interoperates with etcd's Election service).

Usage::

    election = AsyncElection(session, "services/scheduler")
    await election.campaign(b"host-a:8080")       # returns once leader
    await election.proclaim(b"host-a:9090")       # update the leader's value
    async for leader in election.observe():       # every leader (and value) change
        ...
    await election.resign()

Contract:

* ``campaign(value, timeout=None) -> bool``: enqueue (idempotent, as for
  locks) and wait until every earlier candidate is gone. True once leader;
  False on timeout (the candidacy is withdrawn). If the session already has
  a candidacy with another value, the value is proclaimed (as clientv3 does);
* ``proclaim`` and ``resign`` act only while our key is still the one we
  created (compare on its create revision): ``proclaim`` raises
  ``ElectionNotLeaderError`` otherwise; ``resign`` is then a no-op;
* ``leader()`` returns the current leader's key-value or raises
  ``ElectionNoLeaderError``;
* ``observe()`` yields the leader's ``KeyValue`` each time the leader or its
  value changes, never the same (key, mod revision) twice, until closed.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncGenerator

from etcdkit.client import Delete, ElectionNoLeaderError, ElectionNotLeaderError, EtcdError, EventType, KeyValue, Put
from etcdkit.recipes._queue import TurnTimeout, wait_turn
from etcdkit.recipes._queue import closing as _closing
from etcdkit.recipes.core.mutex import contender_key, first_created, if_still_mine, name_prefix
from etcdkit.recipes.core.session import SessionState
from etcdkit.recipes.lock import enqueue
from etcdkit.recipes.session import AsyncSession

__all__ = ["AsyncElection"]


class AsyncElection:
    """Leader election named ``name`` for candidates holding ``session``."""

    def __init__(self, session: AsyncSession, name: bytes | str) -> None:
        self.session = session
        self.prefix = name_prefix(name)
        self.key = contender_key(self.prefix, session.lease_id)
        self.revision = 0  # our key's create revision while leader

    @property
    def is_leader(self) -> bool:
        """True after a successful campaign while the session lives (and before resign)."""
        return self.revision != 0 and self.session.state is not SessionState.LOST and not self.session.closed

    async def campaign(self, value: bytes, timeout: float | None = None) -> bool:
        """Become leader with ``value``; True once leader, False if ``timeout`` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        client = self.session.client
        c = await enqueue(self.session, self.prefix, value, deadline)
        rev = c.revision
        try:
            if c.value != value:  # our key existed already (a retry): proclaim the new value
                await client.txn(if_still_mine(c.key, rev, Put(c.key, value, lease=self.session.lease)))
            if not c.owns:
                await wait_turn(client, self.session, self.prefix, c.key, rev, deadline, c.blockers)
        except TurnTimeout:
            await self._withdraw(rev)
            return False
        except BaseException:
            await self._withdraw(rev)
            raise
        self.revision = rev
        return True

    async def _withdraw(self, rev: int) -> None:
        """Best-effort removal of our candidacy (it otherwise ends with the session)."""
        with contextlib.suppress(EtcdError):
            await self.session.client.txn(if_still_mine(self.key, rev, Delete(self.key)))

    async def proclaim(self, value: bytes) -> None:
        """Set the leader's value; ``ElectionNotLeaderError`` unless we lead."""
        if self.revision == 0:
            raise ElectionNotLeaderError()
        txn = if_still_mine(self.key, self.revision, Put(self.key, value, lease=self.session.lease))
        if not (await self.session.client.txn(txn)).succeeded:
            self.revision = 0
            raise ElectionNotLeaderError()

    async def resign(self) -> None:
        """Give up leadership (delete our key); a no-op when not leader."""
        rev, self.revision = self.revision, 0
        if rev:
            await self.session.client.txn(if_still_mine(self.key, rev, Delete(self.key)))

    async def leader(self) -> KeyValue:
        """The current leader's key-value; ``ElectionNoLeaderError`` when there is none."""
        resp = await self.session.client.get_op(first_created(self.prefix))
        if not resp.kvs:
            raise ElectionNoLeaderError()
        return resp.kvs[0]

    async def observe(self) -> AsyncGenerator[KeyValue, None]:
        """Yield the leader each time it (or its value) changes."""
        client = self.session.client
        last: tuple[bytes, int] | None = None
        while True:
            resp = await client.get_op(first_created(self.prefix))
            if resp.kvs:
                kv = resp.kvs[0]
                rev = resp.header.revision
            else:
                # No leader: wait for the first key created under the prefix.
                async with _closing(
                    await client.watch(
                        self.prefix, prefix=True, start_revision=resp.header.revision + 1, no_delete=True
                    )
                ) as w:
                    batch = await w.__anext__()
                kv = batch.events[0].kv
                rev = kv.mod_revision
            if last != (kv.key, kv.mod_revision):
                last = (kv.key, kv.mod_revision)
                yield kv
            async with _closing(await client.watch(kv.key, start_revision=rev + 1)) as w:
                async for batch in w:
                    gone = False
                    for e in batch.events:
                        if e.type is EventType.DELETE:
                            gone = True
                            break
                        last = (e.kv.key, e.kv.mod_revision)
                        yield e.kv
                    if gone:
                        break
