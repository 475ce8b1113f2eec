"""Error mapping shared by every servicer."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import DecodeError

from etcdkit.server.errors import EtcdServerError

__all__ = ["Malformed", "add_servicer", "mapped"]

R = TypeVar("R")


class Malformed:
    """Stands in for a request whose bytes did not parse (see ``add_servicer``)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


# grpc-go's wording for a request that fails to unmarshal (etcd answers INTERNAL with it).
UNMARSHAL_PREFIX = "grpc: error unmarshalling request: "


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError:
            return Malformed("unexpected EOF")

    return parse


class _Registrar:
    """Forwards the generated ``add_*_to_server`` calls with tolerant deserializers."""

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server

    def _wrap(self, handlers: dict[str, Any]) -> dict[str, Any]:
        return {
            name: h._replace(request_deserializer=_tolerant(h.request_deserializer)) if h.request_deserializer else h
            for name, h in handlers.items()
        }

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        wrapped = []
        for gh in handlers:
            service = gh.service_name()
            methods = self._wrap(dict(gh._method_handlers))
            wrapped.append(grpc.method_handlers_generic_handler(service, methods))
        self._server.add_generic_rpc_handlers(wrapped)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self._server.add_registered_method_handlers(service, self._wrap(handlers))  # type: ignore[attr-defined]


def add_servicer(add: Callable[[Any, Any], None], servicer: Any, server: grpc.aio.Server) -> None:
    """Register ``servicer`` with the generated ``add`` function, making bad request bytes
    reach the servicer as ``Malformed`` so it can answer as etcd does."""
    add(servicer, _Registrar(server))


def mapped(fn: Callable[[Any, Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Decorate a unary servicer method: ``EtcdServerError`` -> etcd's status code and message."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> R:
        if isinstance(request, Malformed):
            await context.abort(grpc.StatusCode.INTERNAL, UNMARSHAL_PREFIX + request.reason)
        try:
            return await fn(self, request, context)
        except EtcdServerError as exc:
            await context.abort(exc.wire.code, exc.wire.message)
            raise  # unreachable: abort raises

    return wrapper
