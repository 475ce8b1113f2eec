"""Fork scenario, run as a script in a fresh interpreter by tests/client/test_fork.py.

Usage: ``python fork_scenario.py ENDPOINT PREFIX FORKS MODE`` where MODE is
``open`` (fork while a client with a watch and a keep-alive is open) or
``closed`` (close it before forking). Each child reports what it saw as one
JSON object on a pipe; the parent reaps each child by PID within a deadline
(SIGKILL after it) and checks its own client still works. A child that hangs
writes its threads' Python stacks (``faulthandler``) shortly before the
deadline; the report carries them. The last line of stdout is a JSON report.
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import tempfile
import time
from typing import Any

from etcdkit.client import Client, ClientClosedError, ForkUnsafeError, WatchConfig

CHILD_DEADLINE = 30.0


def _outcome(fn: Any) -> str:
    """The name of the exception ``fn()`` raised ("ok" if none), and whether it came quickly."""
    t0 = time.monotonic()
    try:
        fn()
        name = "ok"
    except Exception as e:
        name = type(e).__name__
    return name if time.monotonic() - t0 < 5.0 else name + " (slow)"


def child(ep: str, prefix: bytes, i: int, inherited: Client | None) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    if inherited is not None:
        seen["inherited_get"] = _outcome(lambda: inherited.get(prefix + b"k"))
        seen["inherited_watch"] = _outcome(lambda: inherited.watch(prefix + b"w"))
        seen["inherited_close"] = _outcome(inherited.close)
    with Client(endpoints=[ep]) as mine:
        key = prefix + b"child%d" % i
        mine.put(key, b"ok")
        seen["new_get"] = (mine.get(key).value or b"").decode()

        def watch() -> None:
            w = mine.watch(key)
            mine.put(key, b"again")
            batch = w.next(timeout=10)
            assert batch is not None and batch.events[0].kv.value == b"again"
            w.close()

        seen["new_watch"] = _outcome(watch)
        lease = mine.lease_grant(30)
        seen["new_keep_alive"] = _outcome(lambda: mine.keep_alive(lease.id, 30).close())
        mine.lease_revoke(lease.id)
    return seen


def reap(pid: int) -> str:
    deadline = time.monotonic() + CHILD_DEADLINE
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if os.WIFSIGNALED(status):
                return f"signal {os.WTERMSIG(status)}"
            return f"exit {os.WEXITSTATUS(status)}"
        time.sleep(0.02)  # polling a child's exit with a deadline, not synchronising on time
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung (killed)"


def main() -> None:
    ep, prefix, forks, mode = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), sys.argv[4]
    report: dict[str, Any] = {"children": []}
    parent = Client(endpoints=[ep], watch=WatchConfig(progress_interval=0.5, stall_timeout=2.0))
    w = parent.watch(prefix + b"w")
    lease = parent.lease_grant(30)
    keeper = parent.keep_alive(lease.id, 30)
    if mode == "closed":
        parent.close()
    for i in range(forks):
        rfd, wfd = os.pipe()
        stacks = os.path.join(tempfile.gettempdir(), f"fork-child-{os.getpid()}-{i}.txt")
        pid = os.fork()
        if pid == 0:  # child: report, then leave without running the parent's cleanup
            os.close(rfd)
            # If the child hangs, its threads' stacks are written before the parent kills it.
            trace = open(stacks, "w")  # noqa: SIM115 - must stay open until the child exits
            faulthandler.dump_traceback_later(CHILD_DEADLINE - 5, file=trace)
            try:
                seen = child(ep, prefix, i, parent if mode == "open" else None)
            except BaseException as e:
                seen = {"error": repr(e)}
            os.write(wfd, json.dumps(seen).encode())
            os._exit(0)
        os.close(wfd)
        fate = reap(pid)
        data = b""
        while chunk := os.read(rfd, 65536):
            data += chunk
        os.close(rfd)
        entry = {"fate": fate, "seen": json.loads(data) if data else None}
        if fate == "hung (killed)" and os.path.exists(stacks):
            with open(stacks) as f:
                entry["stacks"] = f.read()[-4000:]
        if os.path.exists(stacks):
            os.unlink(stacks)
        report["children"].append(entry)
        if mode == "open":
            r = parent.put(prefix + b"w", b"%d" % i)
            batch = w.next(timeout=10)
            assert batch is not None and batch.events[0].kv.mod_revision == r.header.revision
    if mode == "open":
        report["parent"] = {"reconnects": w.stats.reconnects, "keeper_alive": keeper.alive}
        parent.lease_revoke(lease.id)
        parent.close()
    print(json.dumps(report))


if __name__ == "__main__":
    assert ForkUnsafeError.__mro__[1] is ClientClosedError
    main()
