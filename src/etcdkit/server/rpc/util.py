"""Error mapping shared by every servicer."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from etcdkit.server.errors import EtcdServerError

__all__ = ["mapped"]

R = TypeVar("R")


def mapped(fn: Callable[[Any, Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Decorate a unary servicer method: ``EtcdServerError`` -> etcd's status code and message."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> R:
        try:
            return await fn(self, request, context)
        except EtcdServerError as exc:
            await context.abort(exc.wire.code, exc.wire.message)
            raise  # unreachable: abort raises

    return wrapper
