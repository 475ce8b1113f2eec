"""A local cache (informer) of a prefix that keeps serving through outages.

    python examples/cache.py --endpoints 127.0.0.1:2379 --prefix /app/ --file app.cache.json --put /app/x=1

Prints the cached state, applies --put writes (queued while etcd is down,
pushed with compare-on-mod-revision when it is back; conflicts printed),
then follows changes for --duration seconds.
"""

from __future__ import annotations

import time

from _common import endpoints, parser

from etcdkit.client import Client, Event
from etcdkit.recipes import Cache, Conflict


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--prefix", default="/app/")
    p.add_argument("--file", default=None, help="persist the cache here (restart starts from it)")
    p.add_argument("--put", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--duration", type=float, default=1.0)
    args = p.parse_args()

    def on_conflict(c: Conflict) -> None:
        remote = c.remote.value if c.remote is not None else "<deleted>"
        print(f"conflict on {c.key.decode()}: ours={c.write.value!r} theirs={remote!r}", flush=True)

    def on_event(e: Event) -> None:
        tag = " (synthetic)" if e.synthetic else ""
        print(f"{e.type.name} {e.kv.key.decode()}={e.kv.value.decode(errors='replace')}{tag}", flush=True)

    with Client(endpoints=endpoints(args)) as client:
        cache = Cache(client, args.prefix.encode(), path=args.file, on_conflict=on_conflict)
        cache.add_listener(on_event)
        cache.start(timeout=30)
        try:
            print(f"{len(cache)} keys at revision {cache.revision} (stale={cache.stale})")
            for item in args.put:
                k, _, v = item.partition("=")
                cache.put(k.encode(), v.encode())
            if args.put:
                cache.flush(timeout=30)
            time.sleep(args.duration)  # follow changes meanwhile
            for k, v in cache.items():
                print(f"  {k.decode()} = {v.decode(errors='replace')}")
            print(f"staleness {cache.staleness():.1f}s, {len(cache.pending)} writes pending")
        finally:
            cache.close()


if __name__ == "__main__":
    main()
