"""Run Debian's etcdctl and ``python -m etcdkit`` side by side against one server and compare.

``Tools(endpoint).pair(args, stdin=...)`` runs both tools with the same
arguments, environment (``ETCDCTL_ENDPOINTS`` set to the server) and stdin and
returns both ``Result``s; ``assert_same`` compares stdout, stderr and exit
code byte for byte after ``normalise_stderr`` (which only blanks values that
are timestamps, random client UUIDs or durations, never content).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"
SRC = str(Path(__file__).resolve().parents[2] / "src")

_STDERR_NORMS = [
    (re.compile(rb'"ts":("[^"]*"|[0-9.e+]+)'), b'"ts":TS'),
    (re.compile(rb"client-[0-9a-f-]{36}"), b"client-UUID"),
    (re.compile(rb"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6} ", re.M), b"DATE "),
    (re.compile(rb'"took":[0-9.e+-]+'), b'"took":T'),
    # a Go panic's goroutine dump (addresses, line numbers) is not output etcdkit can or should mimic
    (re.compile(rb"(panic: [^\n]*\n).*", re.S), rb"\1"),
]
_TOOK = re.compile(r"(took = |\"took\":\"|\"Took\" : |\| +)[0-9.]+(ns|µs|ms|s)".encode())


@dataclass(frozen=True)
class Result:
    """One tool run: raw stdout/stderr bytes and the exit code."""

    stdout: bytes
    stderr: bytes
    rc: int


def normalise_stderr(data: bytes) -> bytes:
    """Blank timestamps, random client UUIDs and durations (they differ run to run)."""
    for rx, repl in _STDERR_NORMS:
        data = rx.sub(repl, data)
    return normalise_took(data)


def normalise_took(data: bytes) -> bytes:
    """Blank measured durations (``took = 1.2ms``), which differ between any two runs."""
    return _TOOK.sub(lambda m: m.group(1) + b"T", data)


def base_env(endpoint: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCDCTL_", "ETCD_"))}
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if endpoint:
        env["ETCDCTL_ENDPOINTS"] = endpoint
    return env


class Tools:
    """Both CLIs bound to one endpoint."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def command(self, tool: str, args: list[str]) -> list[str]:
        if tool == "etcdctl":
            return [ETCDCTL, *args]
        return [sys.executable, "-m", "etcdkit", *args]

    def run(self, tool: str, args: list[str], stdin: bytes = b"", env: dict[str, str] | None = None,
            timeout: float = 30) -> Result:
        full_env = base_env(self.endpoint)
        full_env.update(env or {})
        for k in [k for k, v in full_env.items() if v is None]:
            del full_env[k]
        p = subprocess.run(self.command(tool, args), input=stdin, capture_output=True, env=full_env,
                           timeout=timeout, check=False)
        return Result(p.stdout, p.stderr, p.returncode)

    def pair(self, args: list[str], stdin: bytes = b"", env: dict[str, str] | None = None,
             setup: Callable[[], None] | None = None) -> tuple[Result, Result]:
        if setup:
            setup()
        a = self.run("etcdctl", args, stdin, env)
        if setup:
            setup()
        b = self.run("etcdkit", args, stdin, env)
        return a, b

    def ctl(self, *args: str, stdin: bytes = b"") -> Result:
        """Run real etcdctl (for setup steps); fail loudly if it fails."""
        r = self.run("etcdctl", list(args), stdin)
        assert r.rc == 0, r
        return r


def assert_same(a: Result, b: Result, norm: Callable[[bytes], bytes] | None = None) -> None:
    """Assert identical stdout, (normalised) stderr and exit code; ``norm`` applies to both streams."""
    n = norm or (lambda x: x)
    assert n(b.stdout) == n(a.stdout), f"stdout differs:\netcdctl: {a.stdout!r}\netcdkit: {b.stdout!r}"
    assert n(normalise_stderr(b.stderr)) == n(normalise_stderr(a.stderr)), (
        f"stderr differs:\netcdctl: {a.stderr!r}\netcdkit: {b.stderr!r}"
    )
    assert b.rc == a.rc, f"exit code differs: etcdctl {a.rc}, etcdkit {b.rc}\n{a}\n{b}"


_REVISIONS = re.compile(rb'("(?:revision|mod_revision|create_revision|version|Revision|ModRevision|CreateRevision|'
                        rb'PrevModRevision|PrevCreateRevision|PrevVersion|Version)"\s?:\s?)\d+')


def normalise_revisions(data: bytes) -> bytes:
    """For writes compared on one server: each tool's write advances the store, so revision
    and version counters legitimately differ between the two runs; blank just those numbers."""
    return _REVISIONS.sub(rb"\1N", data)
