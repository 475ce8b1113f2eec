"""A distributed lock with a fencing token, held through a session.

Run two copies at once: the second waits for the first. Kill the first with
SIGKILL and the second gets the lock once the first's lease expires (--ttl).

    python examples/lock.py --endpoints 127.0.0.1:2379 --name jobs/nightly --hold 5
"""

from __future__ import annotations

import threading

from _common import endpoints, parser

from etcdkit.client import Client
from etcdkit.recipes import Lock, Session, SessionState


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--name", default="examples/lock")
    p.add_argument("--ttl", type=int, default=5)
    p.add_argument("--hold", type=float, default=1.0, help="seconds to hold the lock")
    p.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args()
    with Client(endpoints=endpoints(args)) as client, Session(client, ttl=args.ttl) as session:
        danger = threading.Event()
        session.add_listener(lambda s: danger.set() if s is not SessionState.CONNECTED else None)
        with Lock(session, args.name, timeout=args.timeout) as lock:
            print(f"acquired {args.name!r}: key={lock.key.decode()} fencing token={lock.fencing_token}", flush=True)
            # Do the work, passing the token to whatever you write so stale holders can be refused.
            if danger.wait(args.hold):
                print("session in danger: stopping work early", flush=True)
        print("released", flush=True)


if __name__ == "__main__":
    main()
