"""Per-process CPU time and memory from Linux ``/proc``, and a description of the machine.

Contract: ``cpu_seconds(pid)`` is utime + stime of ``pid`` (its own threads,
not its children) in seconds, at ``SC_CLK_TCK`` resolution (usually 10 ms:
measure over runs of seconds); ``rss_bytes(pid)`` is ``VmRSS``. Both raise
``ProcessLookupError`` when the process is gone. The parsers are pure
functions of the file text so they are testable without a process.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess

__all__ = ["cpu_seconds", "machine_info", "parse_rss_bytes", "parse_stat_cpu_ticks", "rss_bytes"]

_CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_stat_cpu_ticks(stat_text: str) -> int:
    """utime + stime in clock ticks from the text of ``/proc/<pid>/stat``.

    The command name (field 2) is parenthesised and may contain spaces or
    parentheses, so fields are counted after the *last* ``)``: utime and
    stime are fields 14 and 15 of the line (1-based), i.e. indices 11 and 12
    after the name.
    """
    rest = stat_text[stat_text.rindex(")") + 2 :].split()
    return int(rest[11]) + int(rest[12])


def parse_rss_bytes(status_text: str) -> int:
    """``VmRSS`` in bytes from the text of ``/proc/<pid>/status``."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            if unit != "kB":
                raise ValueError(f"unexpected VmRSS unit {unit!r}")
            return int(value) * 1024
    raise ValueError("no VmRSS line (kernel thread or zombie?)")


def _read(pid: int, name: str) -> str:
    try:
        with open(f"/proc/{pid}/{name}") as f:
            return f.read()
    except FileNotFoundError:
        raise ProcessLookupError(pid) from None


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) consumed so far by ``pid``, in seconds."""
    return parse_stat_cpu_ticks(_read(pid, "stat")) / _CLK_TCK


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` in bytes."""
    return parse_rss_bytes(_read(pid, "status"))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _etcd_version() -> str:
    etcd = shutil.which("etcd")
    if etcd is None:
        return "not installed"
    try:
        out = subprocess.run([etcd, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    for line in out.splitlines():
        if line.startswith("etcd Version:"):
            return line.split(":", 1)[1].strip()
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def _git_commit() -> str:
    """Short commit of the etcdkit source tree, when it is a git checkout (else ``"-"``)."""
    import etcdkit

    src = os.path.dirname(os.path.abspath(etcdkit.__file__))
    try:
        out = subprocess.run(["git", "-C", src, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "-"
    return out.stdout.strip() if out.returncode == 0 else "-"


def machine_info() -> dict[str, str]:
    """CPU count and model, kernel, and the versions behind a benchmark table."""
    import grpc

    import etcdkit

    return {
        "nproc": str(os.cpu_count()),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "etcd": _etcd_version(),
        "etcdkit": etcdkit.__version__,
        "commit": _git_commit(),
    }
