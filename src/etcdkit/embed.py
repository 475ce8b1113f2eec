"""Run an etcdkit member inside this Python process.

    with etcdkit.embed.Server(data_dir="/tmp/d", port=0) as srv:
        srv.endpoint        # "127.0.0.1:<port>", for any etcd client

``Server`` owns a background thread running the member's event loop;
``start()`` returns once the member serves and ``stop()`` joins the thread
(no thread survives ``stop()``). ``AsyncServer`` runs on the caller's loop.
A temporary data dir is created (and removed on stop) when none is given.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from etcdkit.server.config import ServerConfig
from etcdkit.server.member import Member

__all__ = ["AsyncServer", "Server"]


def _config(data_dir: str | Path | None, host: str, port: int, metrics_port: int | None, **kw: Any) -> tuple[
    ServerConfig, Path | None
]:
    tmp = None
    if data_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="etcdkit-embed-"))
        data_dir = tmp
    url = f"http://{host}:{port}"
    metrics = (f"http://{host}:{metrics_port}",) if metrics_port is not None else ()
    cfg = replace(
        ServerConfig(), data_dir=Path(data_dir), listen_client_urls=(url,), advertise_client_urls=(url,),
        listen_metrics_urls=metrics, **kw,
    )
    return cfg, tmp


class AsyncServer:
    """A member on the running event loop: ``async with AsyncServer(...) as srv``."""

    def __init__(
        self, data_dir: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 0,
        metrics_port: int | None = None, **config: Any,
    ) -> None:
        self.config, self._tmp = _config(data_dir, host, port, metrics_port, **config)
        self.member = Member(self.config)

    @property
    def endpoint(self) -> str:
        host, port = self.member.client_addresses[0]
        return f"{host}:{port}"

    async def start(self) -> Self:
        from etcdkit.server.compactor import start_auto_compaction

        await self.member.start()
        assert self.member.server is not None
        start_auto_compaction(self.member.server)
        return self

    async def stop(self) -> None:
        await self.member.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class Server:
    """A member on its own background thread and event loop (blocking API)."""

    def __init__(
        self, data_dir: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 0,
        metrics_port: int | None = None, start_timeout: float = 30.0, **config: Any,
    ) -> None:
        self._async = AsyncServer(data_dir, host=host, port=port, metrics_port=metrics_port, **config)
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def config(self) -> ServerConfig:
        return self._async.config

    @property
    def endpoint(self) -> str:
        return self._async.endpoint

    @property
    def member(self) -> Member:
        return self._async.member

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="etcdkit-embed", daemon=True)
        self._thread.start()
        if not self._ready.wait(self._start_timeout):
            raise TimeoutError("etcdkit embedded server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await self._async.start()
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self._async.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
