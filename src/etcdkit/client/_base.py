"""What every API mixin of ``AsyncClient`` shares: the transport and the namespace."""

from __future__ import annotations

from etcdkit.client._convert import Namespace
from etcdkit.client._transport import Transport

__all__ = ["ClientBase"]


class ClientBase:
    """Holds the transport and namespace; the API mixins only use these two."""

    _transport: Transport
    _ns: Namespace
