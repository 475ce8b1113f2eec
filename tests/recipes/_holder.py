"""Child process for the lock tests: take a lock, print its fencing token, then hold it until killed.

Usage: python _holder.py ENDPOINT NAME TTL
"""

import sys

from etcdkit.client import Client
from etcdkit.recipes import Lock, Session


def main() -> None:
    endpoint, name, ttl = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = Client(endpoints=[endpoint])
    session = Session(client, ttl=ttl)
    lock = Lock(session, name)
    if not lock.acquire(timeout=30):
        print("timeout", flush=True)
        return
    print(f"held {lock.fencing_token} {session.lease_id}", flush=True)
    sys.stdin.read()  # hold until killed (or stdin closes)


if __name__ == "__main__":
    main()
