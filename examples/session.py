"""A session (lease + keep-alive + local deadline) and its state changes (asyncio).

    python examples/session.py --endpoints 127.0.0.1:2379 --ttl 3 --duration 5

Stop the server meanwhile (kill -STOP) to see SUSPENDED, then LOST before the server would expire the lease.
"""

from __future__ import annotations

import asyncio

from _common import endpoints, parser

from etcdkit.client import AsyncClient
from etcdkit.recipes import AsyncLock, AsyncSession, SessionLostError


async def amain() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--ttl", type=int, default=3)
    p.add_argument("--duration", type=float, default=2.0)
    args = p.parse_args()
    async with AsyncClient(endpoints=endpoints(args)) as client:
        session = await AsyncSession.create(client, ttl=args.ttl)
        session.add_listener(lambda s: print(f"session {session.lease_id:x}: {s.value}", flush=True))
        async with session, AsyncLock(session, "examples/session-lock") as lock:
            print(f"holding lock, fencing token {lock.fencing_token}, {session.remaining():.1f}s known to live")
            try:
                await asyncio.wait_for(session.wait_lost(), args.duration)
                session.check()
            except TimeoutError:
                print("still alive", flush=True)
            except SessionLostError as e:
                print(f"lost: {e}", flush=True)


if __name__ == "__main__":
    asyncio.run(amain())
