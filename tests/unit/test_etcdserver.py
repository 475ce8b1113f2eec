"""EtcdServer core behaviour that needs no gRPC: failure handling of the apply loop."""

from __future__ import annotations

from pathlib import Path

from etcdkit.server.errors import EtcdServerError


def test_apply_bug_stops_writes_instead_of_hanging(tmp_path: Path) -> None:
    import asyncio

    from etcdkit.api.pb import rpc_pb2
    from etcdkit.server.config import ServerConfig
    from etcdkit.server.etcdserver import EtcdServer

    async def run() -> tuple[str, str]:
        srv = EtcdServer(ServerConfig(data_dir=tmp_path / "d", unsafe_no_fsync=True))
        await srv.start()

        def broken(*args: object) -> object:
            raise RuntimeError("bug")

        srv._apply_one = broken  # type: ignore[method-assign]
        try:
            first = await asyncio.wait_for(srv.put(rpc_pb2.PutRequest(key=b"k", value=b"v")), 5)
        except EtcdServerError as exc:
            first_msg = exc.wire.message
        else:
            raise AssertionError(f"put succeeded: {first}")
        try:
            await srv.put(rpc_pb2.PutRequest(key=b"k2", value=b"v"))
        except EtcdServerError as exc:
            second_msg = exc.wire.message
        await srv.stop()
        return first_msg, second_msg

    assert asyncio.run(run()) == ("etcdserver: server stopped", "etcdserver: server stopped")
