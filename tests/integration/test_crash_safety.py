"""Crash safety: every acknowledged write survives ``kill -9``, revisions have no holes.

Several writer threads put unique keys as fast as they can; at a random
moment (after a random number of acknowledgements, not a sleep) the server
gets SIGKILL. After a restart on the same data dir, every acknowledged put
must be there with the acknowledged revision, and the create revisions of all
keys must be exactly 2..current (each put is one revision, nothing lost,
nothing duplicated). The cycle repeats on the same data dir.
"""

from __future__ import annotations

import random
import threading

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.testing import EtcdkitProcess, wait_until

WRITERS = 8
CYCLES = 6


def _writer(endpoint: str, wid: int, start_seq: int, acked: list[tuple[bytes, bytes, int]], stop: threading.Event,
            count: list[int], lock: threading.Lock) -> None:
    with grpc.insecure_channel(endpoint) as ch:
        kv = rpc_pb2_grpc.KVStub(ch)
        seq = start_seq
        while not stop.is_set() and seq < start_seq + 100_000:
            key = f"/crash/w{wid}/{seq:08d}".encode()
            value = f"v{seq}".encode()
            try:
                resp = kv.Put(rpc_pb2.PutRequest(key=key, value=value), timeout=5)
            except grpc.RpcError:
                return  # the server died: this write's fate is unknown
            with lock:
                acked.append((key, value, resp.header.revision))
                count[0] += 1
            seq += 1


@pytest.mark.slow
def test_acknowledged_writes_survive_kill_9(tmp_path: object) -> None:
    rng = random.Random(1234)
    server = EtcdkitProcess()
    acked: list[tuple[bytes, bytes, int]] = []
    lock = threading.Lock()
    try:
        server.start()
        for cycle in range(CYCLES):
            stop = threading.Event()
            count = [0]
            target = rng.randint(5, 400)
            threads = [
                threading.Thread(target=_writer, args=(server.endpoint, w, cycle * 100_000, acked, stop, count, lock))
                for w in range(WRITERS)
            ]
            for t in threads:
                t.start()
            wait_until(lambda c=count, n=target: c[0] >= n, timeout=60, what=f"{target} acknowledged writes")
            server.kill()
            stop.set()
            for t in threads:
                t.join(timeout=30)
            server.start()
            with grpc.insecure_channel(server.endpoint) as ch:
                kv = rpc_pb2_grpc.KVStub(ch)
                resp = kv.Range(rpc_pb2.RangeRequest(key=b"/crash/", range_end=b"/crash0"), timeout=30)
                stored = {kv_.key: kv_ for kv_ in resp.kvs}
                current = resp.header.revision
            for key, value, rev in acked:
                assert key in stored, f"cycle {cycle}: acknowledged {key!r} lost"
                assert stored[key].value == value
                assert stored[key].create_revision == rev
            creates = sorted(kv_.create_revision for kv_ in stored.values())
            assert creates == list(range(2, current + 1)), f"cycle {cycle}: revision holes or duplicates"
        assert len(acked) >= CYCLES * 5
    finally:
        server.cleanup()
