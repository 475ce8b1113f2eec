"""Leader election: campaign, proclaim, observe, resign.

    python examples/election.py --endpoints 127.0.0.1:2379 --value host-a --lead 3

Run several copies: one leads, the others wait; each prints every leader change it observes.
"""

from __future__ import annotations

import threading

from _common import endpoints, parser

from etcdkit.client import Client
from etcdkit.recipes import Election, Session


def main() -> None:
    p = parser(__doc__ or "")
    p.add_argument("--name", default="examples/election")
    p.add_argument("--value", default="candidate")
    p.add_argument("--lead", type=float, default=1.0, help="seconds to lead before resigning")
    p.add_argument("--ttl", type=int, default=5)
    args = p.parse_args()
    with Client(endpoints=endpoints(args)) as client, Session(client, ttl=args.ttl) as session:
        election = Election(session, args.name)
        done = threading.Event()

        def observe() -> None:
            with Election(session, args.name).observe() as leaders:
                while not done.is_set():
                    try:
                        kv = leaders.next(timeout=0.5)
                    except TimeoutError:
                        return  # (a timed-out observation ends; fine for a demo)
                    print(f"leader: {kv.value.decode()} ({kv.key.decode()})", flush=True)

        watcher = threading.Thread(target=observe)
        watcher.start()
        election.campaign(args.value.encode())
        print(f"{args.value} is leader", flush=True)
        election.proclaim(f"{args.value} (serving)".encode())
        done.wait(args.lead)
        election.resign()
        done.set()
        watcher.join()
        print("resigned", flush=True)


if __name__ == "__main__":
    main()
