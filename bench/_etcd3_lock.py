"""python-etcd3 side of bench/recipes.py; runs in its own virtualenv (etcd3==0.12.0, protobuf<4).

Usage: python _etcd3_lock.py throughput HOST:PORT CLIENTS DURATION NAME
       python _etcd3_lock.py overrun HOST:PORT NAME      (hold past the TTL; does another client get in?)
Prints one JSON object.
"""

import json
import sys
import threading
import time

import etcd3
from _loops import timed_threads


def throughput(endpoint: str, clients: int, duration: float, name: str) -> None:
    host, port = endpoint.rsplit(":", 1)
    holders = [0]
    violations = [0]
    ops = [0]
    guard = threading.Lock()
    stop = time.monotonic() + duration

    def worker() -> None:
        c = etcd3.client(host=host, port=int(port))
        lock = c.lock(name, ttl=10)
        n = 0
        while time.monotonic() < stop:
            if not lock.acquire(timeout=10):
                continue
            with guard:
                holders[0] += 1
                if holders[0] > 1:
                    violations[0] += 1
            with guard:
                holders[0] -= 1
            lock.release()
            n += 1
        with guard:
            ops[0] += n
        c.close()

    elapsed, cpu_s = timed_threads(worker, clients)
    print(json.dumps({"ops": ops[0], "seconds": elapsed, "violations": violations[0], "cpu_s": cpu_s}))


def overrun(endpoint: str, name: str) -> None:
    host, port = endpoint.rsplit(":", 1)
    a = etcd3.client(host=host, port=int(port))
    b = etcd3.client(host=host, port=int(port))
    first = a.lock(name, ttl=2)
    assert first.acquire(timeout=5)
    # Hold for 4 s (twice the TTL) as a slow job would; does a second client get the lock meanwhile?
    second = b.lock(name, ttl=2)
    got = second.acquire(timeout=4)
    print(json.dumps({"second_acquired_while_first_held": bool(got)}))
    if got:
        second.release()
    first.release()


if __name__ == "__main__":
    if sys.argv[1] == "throughput":
        throughput(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        overrun(sys.argv[2], sys.argv[3])
