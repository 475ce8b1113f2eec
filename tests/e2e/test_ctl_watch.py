"""watch (history replay, prefix, prev-kv, exec, interactive), lock and elect: etcdkit vs etcdctl.

Long-running commands run as child processes; each is stopped with SIGINT/SIGTERM once the expected
output has arrived (polled with a deadline), never after a fixed sleep.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from etcdkit.testing import wait_until
from tests.e2e.ctl_harness import Tools, base_env

FORMATS = ["simple", "json", "fields", "protobuf"]


class Proc:
    """A child process whose stdout/stderr are collected by threads."""

    def __init__(self, argv: list[str], env: dict[str, str], stdin: bool = False) -> None:
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        self.out = bytearray()
        self.err = bytearray()
        assert self.p.stdout is not None and self.p.stderr is not None
        self._threads = [threading.Thread(target=self._pump, args=(s, buf), daemon=True)
                         for s, buf in ((self.p.stdout, self.out), (self.p.stderr, self.err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream: object, buf: bytearray) -> None:
        for chunk in iter(lambda: stream.read1(65536), b""):  # type: ignore[attr-defined]
            buf.extend(chunk)

    def send(self, data: bytes) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        for t in self._threads:
            t.join(timeout=5)
        for s in (self.p.stdin, self.p.stdout, self.p.stderr):
            if s is not None:
                s.close()
        return rc


@contextmanager
def both(tools: Tools, args: list[str], env: dict[str, str] | None = None, stdin: bool = False) -> Iterator[list[Proc]]:
    full = base_env(tools.endpoint)
    full.update(env or {})
    procs = [Proc(tools.command(t, args), full, stdin) for t in ("etcdctl", "etcdkit")]
    try:
        yield procs
    finally:
        for p in procs:
            p.stop()


def _rev(tools: Tools) -> int:
    out = tools.ctl("get", "nokey", "-w", "fields").stdout
    m = re.search(rb'"Revision" : (\d+)', out)
    assert m
    return int(m.group(1))


@pytest.fixture(scope="module")
def history(tools: Tools) -> tuple[int, int]:
    """Write a fixed history under w/ and return its first and last revision."""
    start = _rev(tools) + 1
    for args in (["put", "w/a", "1"], ["put", "w/b", "2"], ["put", "w/a", "3"], ["del", "w/b"], ["put", "x/c", "4"],
                 ["put", "w/c", "quote\"\n"], ["del", "w/", "--prefix"]):
        tools.ctl(*args)
    return start, _rev(tools)


def _lines(data: bytes | bytearray) -> int:
    return data.count(b"\n")


WATCHES = [
    (["watch", "w/a"], {"simple": 6}),
    (["watch", "w/", "--prefix"], {"simple": 17}),
    (["watch", "w/", "--prefix", "--prev-kv"], {"simple": 27}),
    (["watch", "w/a", "w/c"], {"simple": 14}),
    (["watch", "", "--prefix"], {"simple": 20}),
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("case", WATCHES, ids=lambda c: " ".join(c[0]))
def test_watch_history(tools: Tools, history: tuple[int, int], case: tuple[list[str], dict[str, int]],
                       fmt: str) -> None:
    args, _ = case
    start, _end = history
    # etcdctl's output is the reference: wait until it stops growing is not possible, so wait for the last
    # event's key to show up in etcdctl's stream, then for etcdkit to produce the same bytes.
    with both(tools, [*args, f"--rev={start}", "-w", fmt]) as (a, b):
        marker = b"x/c" if args[1] == "" else b"w/"
        if fmt in ("json", "protobuf"):
            marker = {b"x/c": b"eC9j", b"w/": b"dy9"}[marker] if fmt == "json" else b"w/"
        wait_until(lambda: marker in a.out or a.p.poll() is not None, 10, what="etcdctl watch output")
        wait_until(lambda: bytes(b.out) == bytes(a.out) or b.p.poll() is not None, 10,
                   what="etcdkit to match etcdctl")
        ra, rb = a.stop(), b.stop()
    assert bytes(b.out) == bytes(a.out)
    assert bytes(b.err) == bytes(a.err)
    assert (ra != 0) == (rb != 0)


def test_watch_live_exec(tools: Tools) -> None:
    script = 'echo "$ETCD_WATCH_EVENT_TYPE|$ETCD_WATCH_KEY|$ETCD_WATCH_VALUE|${ETCD_WATCH_REVISION:+rev}"'
    with both(tools, ["watch", "live/", "--prefix", "--", "sh", "-c", script]) as (a, b):
        # a watch established by both is observed by writing until both have seen a marker event
        def ready() -> bool:
            tools.ctl("put", "live/ping", "x")
            return b"live/ping" in a.out and b"live/ping" in b.out

        wait_until(ready, 15, interval=0.2, what="both watchers")
        tools.ctl("put", "live/k", "v 1")
        tools.ctl("del", "live/k")
        wait_until(lambda: a.out.count(b"live/k") >= 4 and b.out.count(b"live/k") >= 4, 10, what="events")
    # extra readiness pings may precede the events: compare from the first live/k event on
    mark = b"PUT\nlive/k\n"
    assert bytes(b.out[b.out.index(mark):]) == bytes(a.out[a.out.index(mark):])
    assert b'"PUT"|"live/k"|"v 1"|rev' in a.out


def test_watch_interactive(tools: Tools, history: tuple[int, int]) -> None:
    start, _ = history
    with both(tools, ["watch", "-i"], stdin=True) as (a, b):
        for p in (a, b):
            p.send(f"watch w/a --rev={start}\n".encode())
            p.send(b"bogus line\n")
            p.send(b"watch\n")
        wait_until(lambda: _lines(a.out) >= 6 and _lines(b.out) >= 6, 10, what="interactive watch output")
        wait_until(lambda: a.err.count(b"\n") >= 2 and b.err.count(b"\n") >= 2, 10, what="error lines")
        for p in (a, b):
            assert p.p.stdin is not None
            p.p.stdin.close()
        ra, rb = a.p.wait(timeout=10), b.p.wait(timeout=10)
    assert bytes(b.out) == bytes(a.out)
    assert bytes(b.err) == bytes(a.err)
    assert ra == rb


def test_watch_compacted(tools: Tools) -> None:
    tools.ctl("put", "cw/k", "1")
    rev = _rev(tools)
    tools.ctl("compaction", str(rev))
    a = tools.run("etcdctl", ["watch", "cw/k", "--rev=1"], timeout=20)
    b = tools.run("etcdkit", ["watch", "cw/k", "--rev=1"], timeout=20)
    assert (b.stdout, b.stderr, b.rc) == (a.stdout, a.stderr, a.rc)


def test_lock_exec(tools: Tools) -> None:
    outs = []
    for tool in ("etcdctl", "etcdkit"):
        r = tools.run(tool, ["lock", "mylock", "--", "sh", "-c", 'echo "key=$ETCD_LOCK_KEY rev=${ETCD_LOCK_REV:+yes}"'])
        outs.append((re.sub(rb"mylock/[0-9a-f]+", b"mylock/LEASE", r.stdout), r.stderr, r.rc))
    assert outs[0] == outs[1]
    assert outs[0][0] == b"key=mylock/LEASE rev=yes\n"
    fail = [tools.run(t, ["lock", "mylock", "false"]) for t in ("etcdctl", "etcdkit")]
    assert (fail[0].stdout, fail[0].stderr, fail[0].rc) == (fail[1].stdout, fail[1].stderr, fail[1].rc)


def test_lock_hold_and_release(tools: Tools) -> None:
    results = []
    for tool in ("etcdctl", "etcdkit"):
        p = Proc(tools.command(tool, ["lock", "held"]), base_env(tools.endpoint))
        try:
            wait_until(lambda p=p: p.out.count(b"\n") >= 2, 10, what=f"{tool} lock output")
            assert tools.ctl("get", "held/", "--prefix", "--keys-only").stdout.startswith(b"held/")
        finally:
            rc = p.stop(signal.SIGINT)
        results.append((re.sub(rb"held/[0-9a-f]+", b"held/LEASE", bytes(p.out)), bytes(p.err), rc))
        wait_until(lambda: tools.ctl("get", "held/", "--prefix").stdout == b"", 10, what="lock released")
    assert results[0] == results[1]


def test_elect(tools: Tools) -> None:
    leader = Proc(tools.command("etcdctl", ["elect", "myelection", "first"]), base_env(tools.endpoint))
    try:
        wait_until(lambda: leader.out.count(b"\n") >= 2, 10, what="leader elected")
        with both(tools, ["elect", "-l", "myelection"]) as (a, b):
            wait_until(lambda: a.out.count(b"\n") >= 2 and b.out.count(b"\n") >= 2, 10, what="observers")
        assert bytes(b.out) == bytes(a.out) == bytes(leader.out)
    finally:
        leader.stop()
    results = []
    for tool in ("etcdctl", "etcdkit"):
        p = Proc(tools.command(tool, ["elect", "e2", "prop"]), base_env(tools.endpoint))
        try:
            wait_until(lambda p=p: p.out.count(b"\n") >= 2, 10, what=f"{tool} elected")
        finally:
            rc = p.stop(signal.SIGINT)
        results.append((re.sub(rb"e2/[0-9a-f]+", b"e2/LEASE", bytes(p.out)), bytes(p.err), rc))
    assert results[0] == results[1]
    assert results[0][0] == b"e2/LEASE\nprop\n"
