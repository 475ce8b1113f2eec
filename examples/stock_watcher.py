"""The talk's stock watcher, with all three of its fixes built in.

* lock-guarded handling: each price change of /stock/<name> is handled under
  that stock's lock; price feeds write through the same lock, so a sell
  decided at 119 is never executed after the price already moved to 110;
* a heartbeat on /stock/health: an alarm when the watch stops delivering;
* a local cache of /stock/ (persisted with --cache-file): the last prices stay
  readable while etcd is down, and feed writes made meanwhile are pushed back
  without overwriting newer remote prices.

    python examples/stock_watcher.py --endpoints 127.0.0.1:2379 --demo

``--demo`` also runs a price feed (130, 119, 110 for /stock/foo) and exits once
the last price is handled (a price superseded before its handler got the lock is
skipped); without it the watcher runs until Ctrl-C.
"""

from __future__ import annotations

import contextlib
import threading

from _common import endpoints, parser

from etcdkit.client import Client, Event, EventType
from etcdkit.recipes import Cache, GuardedWatch, Session, WatchHeartbeat, guarded_put_sync

SELL_BELOW, BUY_BELOW = 120, 115


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--cache-file", default=None)
    p.add_argument("--demo", action="store_true")
    args = p.parse_args()
    with (
        Client(endpoints=endpoints(args)) as client,
        Session(client, ttl=5) as session,
        Cache(client, b"/stock/", path=args.cache_file) as cache,
        WatchHeartbeat(
            client,
            b"/stock/health",
            interval=1.0,
            bound=5.0,
            on_change=lambda s, age: print(f"!! watch heartbeat {s.value} ({age:.1f}s)", flush=True),
        ) as hb,
    ):
        handled = threading.Event()
        seen: list[int] = []

        def on_price(event: Event) -> None:
            if event.type is EventType.DELETE or event.kv.key == b"/stock/health":
                return
            price = int(event.kv.value)
            action = "BUY MORE" if price < BUY_BELOW else "SELL" if price < SELL_BELOW else "hold"
            print(f"{event.kv.key.decode()} = {price}: {action} (watch {hb.state.value})", flush=True)
            seen.append(price)
            if price == 110:  # the demo feed's last price (earlier ones may be skipped as superseded)
                handled.set()

        watcher = GuardedWatch(session, b"/stock/", on_price, prefix=True)
        runner = threading.Thread(target=watcher.run, daemon=True)
        runner.start()
        watcher.ready.wait(10)
        if args.demo:
            for price in (b"130", b"119", b"110"):
                guarded_put_sync(session, b"/stock/foo", price)
            handled.wait(30)
        else:
            with contextlib.suppress(KeyboardInterrupt):
                handled.wait()
        prices = {k.decode(): v.decode() for k, v in cache.items() if k != b"/stock/health"}
        print(f"cached prices: {prices} (revision {cache.revision}, stale={cache.stale})")
        print(f"heartbeat: {hb.state.value} ({hb.events} events)")
        watcher.stop()
        runner.join(10)


if __name__ == "__main__":
    main()
