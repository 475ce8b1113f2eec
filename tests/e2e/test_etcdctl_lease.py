"""Debian's ``etcdctl`` (3.4) as a process against etcdkit and against real etcd:
``lease grant/revoke/timetolive/list/keep-alive``, ``lock`` (with and without a
command), ``elect`` (campaign and ``-l``). Outputs are compared after
normalising lease ids (different on each server) and the remaining-TTL second.

``etcdctl lock`` and ``elect`` run etcd's client-side recipes (KV + Watch +
Lease), so these tests also exercise the Watch service.
"""

from __future__ import annotations

import math
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from etcdkit.api.keys import prefix_end
from etcdkit.api.pb import rpc_pb2, rpc_pb2_grpc
from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess, wait_until

ETCDCTL = shutil.which("etcdctl")
pytestmark = pytest.mark.skipif(ETCDCTL is None or EtcdProcess.binary() is None, reason="etcd/etcdctl not installed")
TARGETS = ("etcd", "etcdkit")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ServerProcess]]:
    started: dict[str, ServerProcess] = {}
    try:
        started["etcd"] = EtcdProcess().start()
        started["etcdkit"] = EtcdkitProcess().start()
        yield started
    finally:
        for s in started.values():
            s.cleanup()


def require_watch(endpoint: str) -> None:
    """etcdctl lock/elect need the Watch service: skip while this build lacks it."""
    with grpc.insecure_channel(endpoint) as ch:
        create = rpc_pb2.WatchCreateRequest(key=b"/e2e/probe")
        stream = rpc_pb2_grpc.WatchStub(ch).Watch(iter([rpc_pb2.WatchRequest(create_request=create)]), timeout=5)
        try:
            next(stream)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                pytest.skip("this etcdkit build has no Watch service")
            raise
        finally:
            stream.cancel()


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "ETCDCTL_"))}
    env["ETCDCTL_API"] = "3"
    return env


def _argv(endpoint: str, *args: str) -> list[str]:
    assert ETCDCTL is not None
    return [ETCDCTL, f"--endpoints={endpoint}", *args]


def ctl(endpoint: str, *args: str) -> tuple[int, str, str]:
    """Run etcdctl to completion: (exit code, stdout, the ``Error:`` lines of stderr)."""
    r = subprocess.run(_argv(endpoint, *args), capture_output=True, text=True, timeout=30, env=_env())
    errors = "\n".join(line for line in r.stderr.splitlines() if line.startswith("Error:"))
    return r.returncode, r.stdout, errors


def count(endpoint: str, prefix: bytes) -> int:
    with grpc.insecure_channel(endpoint) as ch:
        req = rpc_pb2.RangeRequest(key=prefix, range_end=prefix_end(prefix), count_only=True)
        return int(rpc_pb2_grpc.KVStub(ch).Range(req, timeout=10).count)


class Ids:
    """Renames lease ids (``%016x`` in lease output, ``%x`` in lock/elect keys)."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}

    def name(self, lease: int) -> str:
        return self.names.setdefault(lease, f"<lease{len(self.names)}>")

    def norm(self, text: str) -> str:
        text = re.sub(r"\b[0-9a-f]{16}\b", lambda m: self.name(int(m.group(0), 16)), text)
        return re.sub(r"(?<=/)[0-9a-f]{6,16}\b", lambda m: self.name(int(m.group(0), 16)), text)


class Running:
    """A long-running etcdctl (keep-alive, lock, elect) whose lines are read with a deadline."""

    def __init__(self, endpoint: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            _argv(endpoint, *args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env()
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def line(self, timeout: float = 20.0) -> str | None:
        """The next output line (None at EOF); raises ``queue.Empty`` after ``timeout``."""
        return self.lines.get(timeout=timeout)

    def has_line(self) -> bool:
        return not self.lines.empty()

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Send ``sig`` to this process (by PID) and reap it; idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=15)
        self._reader.join(timeout=5)
        if self.proc.stdout is not None and not self._reader.is_alive():
            self.proc.stdout.close()
        return code


def _remaining(text: str) -> tuple[str, list[int]]:
    found = [int(x) for x in re.findall(r"remaining\((\d+)s\)", text)]
    return re.sub(r"remaining\(\d+s\)", "remaining(Ns)", text), found


def _lease_session(endpoint: str) -> list[object]:
    ids = Ids()
    out: list[object] = []
    granted = time.monotonic()  # before the grant: the remaining TTL can have run down at most this long
    code, text, err = ctl(endpoint, "lease", "grant", "60")
    out.append((code, ids.norm(text), err))
    lease = text.split()[1]
    out.append(ctl(endpoint, "put", "--lease", lease, "/e2e/lease/k1", "v"))
    out.append(ctl(endpoint, "put", "--lease", lease, "/e2e/lease/k0", "v"))
    for args in (("lease", "timetolive", lease), ("lease", "timetolive", "--keys", lease)):
        code, text, err = ctl(endpoint, *args)
        text, secs = _remaining(ids.norm(text))
        # etcd lists attached keys in map order; compare them as a set
        text = re.sub(r"attached keys\(\[(.*)\]\)", lambda m: f"attached keys({sorted(m.group(1).split())})", text)
        # remaining is whole seconds of 60 minus what has run down since the grant (the machine's pace)
        ran_down = math.ceil(time.monotonic() - granted)
        out.append((code, text, err, len(secs) == 1 and 60 - ran_down - 1 <= secs[0] <= 60))
    code, text, err = ctl(endpoint, "lease", "list")
    out.append((code, ids.norm(text), err))
    code, text, err = ctl(endpoint, "lease", "keep-alive", "--once", lease)
    out.append((code, ids.norm(text), err))
    keeper = Running(endpoint, "lease", "keep-alive", lease)
    try:
        out.append(ids.norm(keeper.line() or ""))
    finally:
        keeper.stop(signal.SIGTERM)
    code, text, err = ctl(endpoint, "lease", "revoke", lease)
    out.append((code, ids.norm(text), err))
    out.append(ctl(endpoint, "get", "--prefix", "/e2e/lease/"))
    for args in (("lease", "revoke", lease), ("lease", "timetolive", lease), ("lease", "keep-alive", "--once", lease)):
        code, text, err = ctl(endpoint, *args)
        out.append((code, ids.norm(text), ids.norm(err)))
    code, text, err = ctl(endpoint, "lease", "grant", "0")
    out.append((code, ids.norm(text), err))
    ctl(endpoint, "lease", "revoke", text.split()[1])
    out.append(ctl(endpoint, "lease", "grant", "9000000001"))
    out.append(ctl(endpoint, "lease", "list"))
    return out


def test_lease_commands_match_etcd(servers: dict[str, ServerProcess]) -> None:
    results = {name: _lease_session(servers[name].endpoint) for name in TARGETS}
    assert results["etcdkit"] == results["etcd"]
    assert results["etcd"][-1] == (0, "found 0 leases\n", "")


def _lock_session(endpoint: str) -> list[object]:
    ids = Ids()
    out: list[object] = [ctl(endpoint, "lock", "/e2e/lock/a", "echo", "hello")]
    code, text, err = ctl(endpoint, "lock", "/e2e/lock/a", "--", "sh", "-c", 'echo "$ETCD_LOCK_KEY"')
    out.append((code, ids.norm(text), err))
    holder = Running(endpoint, "lock", "/e2e/lock/b")
    waiter: Running | None = None
    try:
        out.append(ids.norm(holder.line() or ""))
        out.append(ids.norm(ctl(endpoint, "get", "--prefix", "--keys-only", "/e2e/lock/b")[1]))
        waiter = Running(endpoint, "lock", "/e2e/lock/b")
        wait_until(lambda: count(endpoint, b"/e2e/lock/b/") == 2, 20, what="second locker queued")
        out.append(waiter.has_line())  # still waiting
        out.append(holder.stop())  # releases the lock (etcdctl revokes its session lease)
        out.append(ids.norm(waiter.line() or ""))
        out.append(waiter.stop())
    finally:
        holder.stop()
        if waiter is not None:
            waiter.stop()
    out.append(ctl(endpoint, "get", "--prefix", "/e2e/lock/"))
    return out


def test_lock_commands_match_etcd(servers: dict[str, ServerProcess]) -> None:
    require_watch(servers["etcdkit"].endpoint)
    results = {name: _lock_session(servers[name].endpoint) for name in TARGETS}
    assert results["etcdkit"] == results["etcd"]
    assert results["etcd"][0] == (0, "hello\n", "")


def _elect_session(endpoint: str) -> list[object]:
    ids = Ids()
    out: list[object] = []
    first = Running(endpoint, "elect", "/e2e/elect", "p1")
    listener: Running | None = None
    second: Running | None = None
    try:
        out.append([ids.norm(first.line() or ""), first.line()])
        listener = Running(endpoint, "elect", "-l", "/e2e/elect")
        out.append([ids.norm(listener.line() or ""), listener.line()])
        second = Running(endpoint, "elect", "/e2e/elect", "p2")
        wait_until(lambda: count(endpoint, b"/e2e/elect/") == 2, 20, what="second candidate queued")
        out.append(second.has_line())  # not leader yet
        out.append(first.stop())  # resigns
        out.append([ids.norm(second.line() or ""), second.line()])
        out.append([ids.norm(listener.line() or ""), listener.line()])
        out.append(second.stop())
        out.append(listener.stop())
    finally:
        for p in (first, listener, second):
            if p is not None:
                p.stop()
    out.append(ctl(endpoint, "get", "--prefix", "/e2e/elect"))
    return out


def test_elect_commands_match_etcd(servers: dict[str, ServerProcess]) -> None:
    require_watch(servers["etcdkit"].endpoint)
    results = {name: _elect_session(servers[name].endpoint) for name in TARGETS}
    assert results["etcdkit"] == results["etcd"]
    assert results["etcd"][0] == ["/e2e/elect/<lease0>", "p1"]
