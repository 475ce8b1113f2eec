"""How the ``etcdkit`` command ends its process, and the stream cancellation the CLI commands rely on."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import etcdkit.__main__ as entry
from etcdkit.ctl._calls import CallSet

# A command whose process holds what made `watch -i` hang after EOF: a daemon thread owns a lock that
# a finalizer run at interpreter shutdown needs (in gRPC, a call's lock and the call's __del__).
_SCRIPT = textwrap.dedent("""
    import gc, sys, threading
    import etcdkit.__main__ as entry

    held = threading.Lock()

    class NeedsTheLock:
        def __del__(self, held=held):
            with held:
                pass

    def command(args):
        ready = threading.Event()

        def owner():
            held.acquire()
            ready.set()
            threading.Event().wait()

        threading.Thread(target=owner, daemon=True).start()
        ready.wait()
        gc.disable()
        garbage = NeedsTheLock()
        garbage.cycle = garbage  # collected by the interpreter's last collection, at shutdown
        del garbage
        sys.stdout.write("output of " + " ".join(args) + "\\n")  # buffered: the pipe is not a tty
        return 3

    entry.main = command
    sys.argv = ["etcdkit", *sys.argv[1:]]
    {end}
""")


def _run(end: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-c", _SCRIPT.format(end=end), *args],
                          capture_output=True, timeout=60, check=False)


def test_a_cli_command_ends_its_process_with_its_output_and_exit_code() -> None:
    done = _run("entry.run()", "watch", "-i")
    assert (done.stdout, done.returncode) == (b"output of watch -i\n", 3)


def test_the_hazard_is_real_without_run() -> None:
    """The same script ending the ordinary way hangs at shutdown: what ``run`` exists to avoid."""
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", _SCRIPT.format(end="raise SystemExit(entry.main(sys.argv[1:]))"),
                        "watch"], capture_output=True, timeout=5, check=False)


def test_serve_exits_through_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(entry, "main", lambda args: seen.append(args) or 7)
    monkeypatch.setattr(sys, "argv", ["etcdkit", "serve", "--name", "x"])
    with pytest.raises(SystemExit) as info:
        entry.run()
    assert (info.value.code, seen) == (7, [["serve", "--name", "x"]])


class _Call:
    def __init__(self) -> None:
        self.cancels = 0

    def cancel(self) -> None:
        self.cancels += 1


def test_callset_cancels_every_call_once_and_late_calls_at_once() -> None:
    calls = CallSet()
    early = [_Call(), _Call()]
    for c in early:
        calls.add(c)
    assert [c.cancels for c in early] == [0, 0]
    calls.cancel_all()
    late = _Call()
    calls.add(late)
    calls.cancel_all()
    assert [c.cancels for c in [*early, late]] == [1, 1, 1]
