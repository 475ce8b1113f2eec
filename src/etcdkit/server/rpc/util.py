"""Error mapping shared by every servicer."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
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
# grpc-go's wording when a message received on a stream does not unmarshal (etcd ends the stream with it).
STREAM_UNMARSHAL_PREFIX = "grpc: failed to unmarshal the received message "


def _tolerant(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def parse(data: bytes) -> Any:
        try:
            return deserialize(data)
        except DecodeError:
            return Malformed("unexpected EOF")

    return parse


class _Registrar:
    """Forwards the generated ``add_*_to_server`` calls (it duck-types the two
    registration methods of ``grpc.aio.Server``) with tolerant deserializers:
    unary requests that do not parse are answered INTERNAL with grpc-go's
    unmarshal message before the servicer runs; streaming servicers receive
    ``Malformed`` items and answer for themselves. ``serializers`` replaces
    the response serializer of the named methods (pre-encoded bytes)."""

    def __init__(self, server: grpc.aio.Server, serializers: dict[str, Callable[[Any], bytes]] | None = None) -> None:
        self._server = server
        self._serializers = serializers or {}

    def _wrap(self, handlers: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name, h in handlers.items():
            if h.request_deserializer is not None:
                h = h._replace(request_deserializer=_tolerant(h.request_deserializer))
            if h.unary_unary is not None:
                h = h._replace(unary_unary=_reject_malformed(h.unary_unary))
            elif h.unary_stream is not None:
                h = h._replace(unary_stream=_reject_malformed_stream(h.unary_stream))
            if name in self._serializers:
                h = h._replace(response_serializer=self._serializers[name])
            out[name] = h
        return out

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        # A generic handler's table is keyed by "/service/Method"; rebuild it from the method names.
        wrapped = []
        for gh in handlers:
            methods = {key.rsplit("/", 1)[-1]: h for key, h in gh._method_handlers.items()}
            wrapped.append(grpc.method_handlers_generic_handler(gh.service_name(), self._wrap(methods)))
        self._server.add_generic_rpc_handlers(wrapped)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Any]) -> None:
        self._server.add_registered_method_handlers(service, self._wrap(handlers))  # type: ignore[attr-defined]


def _reject_malformed(fn: Callable[[Any, Any], Awaitable[Any]]) -> Callable[[Any, Any], Awaitable[Any]]:
    async def handler(request: Any, context: Any) -> Any:
        if isinstance(request, Malformed):
            await context.abort(grpc.StatusCode.INTERNAL, UNMARSHAL_PREFIX + request.reason)
        return await fn(request, context)

    return handler


def _reject_malformed_stream(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    if inspect.isasyncgenfunction(fn):

        async def generator(request: Any, context: Any) -> AsyncIterator[Any]:
            if isinstance(request, Malformed):
                await context.abort(grpc.StatusCode.INTERNAL, UNMARSHAL_PREFIX + request.reason)
            async for item in fn(request, context):
                yield item

        return generator
    return _reject_malformed(fn)


def add_servicer(
    add: Callable[[Any, Any], None],
    servicer: Any,
    server: grpc.aio.Server,
    serializers: dict[str, Callable[[Any], bytes]] | None = None,
) -> None:
    """Register ``servicer`` with the generated ``add`` function: request bytes
    that do not parse get etcd's INTERNAL unmarshal error (unary) or reach the
    servicer as ``Malformed`` (client streams); ``serializers`` overrides the
    response serializer of the named methods."""
    add(servicer, _Registrar(server, serializers))


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
