"""STM: concurrent transfers between two accounts never lose money (asyncio).

python examples/stm_transfer.py --endpoints 127.0.0.1:2379 --workers 8
"""

from __future__ import annotations

import asyncio

from _common import endpoints, parser

from etcdkit.client import AsyncClient
from etcdkit.recipes import AsyncSTM, run_stm_async


async def amain() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--workers", type=int, default=8)
    args = p.parse_args()
    a, b = b"examples/stm/alice", b"examples/stm/bob"
    async with AsyncClient(endpoints=endpoints(args)) as client:
        await client.put(a, b"100")
        await client.put(b, b"100")
        retries = 0

        async def transfer(stm: AsyncSTM) -> None:
            nonlocal retries
            retries += stm.attempt > 1
            x, y = int(await stm.get(a) or b"0"), int(await stm.get(b) or b"0")
            stm.put(a, str(x - 1).encode())
            stm.put(b, str(y + 1).encode())

        await asyncio.gather(*(run_stm_async(client, transfer, max_attempts=100) for _ in range(args.workers)))
        x, y = (await client.get(a)).value, (await client.get(b)).value
        print(f"alice={x!r} bob={y!r} (sum stays 200) after {args.workers} transfers, {retries} retries")


if __name__ == "__main__":
    asyncio.run(amain())
