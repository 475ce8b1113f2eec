"""Server processes for tests: real etcd and ``etcdkit serve``, on loopback.

Contract:

* ``start()`` returns once the server answers ``/health`` (or raises
  ``TimeoutError`` after ``start_timeout`` seconds and kills what it started);
* ``stop()`` sends SIGTERM to the PID it started and SIGKILL after a bound;
  ``kill()`` sends SIGKILL at once (crash tests); ``pause()``/``resume()``
  send SIGSTOP/SIGCONT;
* ``restart()`` starts again on the same ports and data dir.

Processes are never looked up or killed by name.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["EtcdProcess", "EtcdkitProcess", "ServerProcess", "free_port", "wait_until"]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; raise ``TimeoutError`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ServerProcess:
    """A server run as a child process on free loopback ports (base class)."""

    name = "server"

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        extra_args: list[str] | None = None,
        start_timeout: float = 20.0,
        member_name: str = "default",
    ) -> None:
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir is not None else Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.client_port = free_port()
        self.peer_port = free_port()
        self.metrics_port = free_port()
        self.member_name = member_name
        self.extra_args = list(extra_args or [])
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_env: dict[str, str] = {}
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def endpoint(self) -> str:
        """``host:port`` of the client listener (what gRPC channels take)."""
        return f"127.0.0.1:{self.client_port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    def command(self) -> list[str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def _health_url(self) -> str:
        # etcd serves /health on the client and the metrics listener; etcdkit's gRPC
        # port speaks only HTTP/2, so both are probed on the metrics listener.
        return f"http://127.0.0.1:{self.metrics_port}/health"

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; log: {self.log_tail()}")
        try:
            with urllib.request.urlopen(self._health_url(), timeout=0.5) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def start(self) -> Self:
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("already running")
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        try:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=self.env())
        finally:
            log.close()
        try:
            wait_until(self._healthy, self.start_timeout, what=f"{self.name} on {self.endpoint}")
        except BaseException:
            self.kill()
            raise
        return self

    def env(self) -> dict[str, str]:
        """The child's environment: ours without ETCD_*/ETCDCTL_*, plus ``extra_env``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ETCD_", "ETCDCTL_"))}
        env.update(self.extra_env)
        return env

    def _signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process (a crash) and reap it."""
        self._signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
        if self.proc is None:
            return
        self.resume()
        self._signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def restart(self) -> Self:
        self.stop()
        return self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.cleanup()


class EtcdProcess(ServerProcess):
    """Real etcd (Debian's ``etcd-server`` package, or ``$ETCD_BIN``)."""

    name = "etcd"

    @staticmethod
    def binary() -> str | None:
        return os.environ.get("ETCDKIT_ETCD_BIN") or shutil.which("etcd")

    def command(self) -> list[str]:
        binary = self.binary()
        if binary is None:
            raise RuntimeError("etcd is not installed (apt-get install -y etcd-server etcd-client)")
        peer = f"http://127.0.0.1:{self.peer_port}"
        return [
            binary,
            f"--name={self.member_name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.member_name}={peer}",
            f"--listen-metrics-urls=http://127.0.0.1:{self.metrics_port}",
            "--log-level=error",
            *self.extra_args,
        ]


class EtcdkitProcess(ServerProcess):
    """``etcdkit serve`` as a child process (same flags as etcd)."""

    name = "etcdkit"

    def command(self) -> list[str]:
        peer = f"http://127.0.0.1:{self.peer_port}"
        return [
            sys.executable,
            "-m",
            "etcdkit",
            "serve",
            f"--name={self.member_name}",
            f"--data-dir={self.data_dir}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.member_name}={peer}",
            f"--listen-metrics-urls=http://127.0.0.1:{self.metrics_port}",
            "--log-level=error",
            *self.extra_args,
        ]
