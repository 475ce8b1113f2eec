"""etcdctl's output formats as pure functions of response protobufs.

Modules: ``simple``, ``fields``, ``jsonfmt``, ``table`` (one per ``-w``
format; ``protobuf`` is the raw wire encoding). ``Display(format, is_hex)``
picks the function for a command kind and renders it to text; a kind a format
lacks raises ``Unsupported`` (etcdctl: "<format> not supported as output
format", exit 4). Raw key/value bytes travel as ``surrogateescape``-decoded
text so writing with the same error handler restores the exact bytes.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMATS", "Display", "GoPanic", "Unsupported"]

FORMATS = ("simple", "json", "fields", "table", "protobuf")

# Commands etcdctl's protobuf printer marshals (the lease ones embed only a header that can marshal itself).
_PB_KINDS = frozenset({
    "get", "put", "delete", "txn", "member_add", "member_remove", "member_update", "member_promote",
    "member_list", "alarm", "move_leader", "auth_enable", "auth_disable", "role_add", "role_get", "role_delete",
    "role_list", "role_grant_permission", "role_revoke_permission", "user_add", "user_get", "user_list",
    "user_change_password", "user_grant_role", "user_revoke_role", "user_delete",
})
_PB_HEADER_ONLY = frozenset({"grant", "keep_alive", "time_to_live", "leases"})
_HEX_KINDS = frozenset({"get", "put", "delete", "txn", "watch"})
_VALUE_ONLY_KINDS = frozenset({"get", "watch"})


class Unsupported(Exception):
    """The chosen format has no rendering for this command."""


class GoPanic(Exception):
    """etcdctl would crash here (e.g. printing a missing header); the CLI reports it as a Go panic, exit 2."""


_FIELDS_UNSUPPORTED = frozenset({"user_get", "user_list", "member_add", "member_remove", "member_update",
                                 "member_promote"})


def _response(args: tuple[Any, ...]) -> Any:
    for a in reversed(args):
        if hasattr(a, "SerializeToString"):
            return a
    raise Unsupported


class Display:
    """Renders one command's result in the chosen ``-w`` format."""

    def __init__(self, fmt: str, is_hex: bool = False, value_only: bool = False) -> None:
        self.format = fmt
        self.is_hex = is_hex
        self.value_only = value_only

    def render(self, kind: str, *args: Any) -> str:
        """Text for command ``kind`` (e.g. ``get``) with its printer arguments; raises ``Unsupported``."""
        fmt = self.format
        if fmt == "simple":
            from etcdkit.ctl.printers import simple

            kw: dict[str, Any] = {}
            if kind in _HEX_KINDS:
                kw["is_hex"] = self.is_hex
            if kind in _VALUE_ONLY_KINDS:
                kw["value_only"] = self.value_only
            return str(getattr(simple, kind)(*args, **kw))
        if fmt == "fields":
            from etcdkit.ctl.printers import fields

            if kind in _FIELDS_UNSUPPORTED:
                raise Unsupported
            fn = getattr(fields, kind, None)
            if fn is not None:
                return str(fn(*args))
            resp = _response(args)
            return fields.hdr(resp.header)
        if fmt == "json":
            from etcdkit.ctl.printers import jsonfmt

            fn = getattr(jsonfmt, kind, None)
            if fn is not None:
                return str(fn(*args))
            return jsonfmt.generic(_response(args))
        if fmt == "table":
            from etcdkit.ctl.printers import table

            fn = getattr(table, kind, None)
            if fn is None:
                raise Unsupported
            return str(fn(*args))
        if fmt == "protobuf":
            if kind in _PB_KINDS:
                return _response(args).SerializeToString().decode("utf-8", "surrogateescape")  # type: ignore[no-any-return]
            if kind == "watch":  # etcdctl rebuilds a WatchResponse from clientv3's (no watch_id)
                resp = _response(args)
                msg = type(resp)(header=resp.header, events=resp.events, compact_revision=resp.compact_revision,
                                 canceled=resp.canceled, created=resp.created)
                return msg.SerializeToString().decode("utf-8", "surrogateescape")  # type: ignore[no-any-return]
            if kind == "revoke":  # etcdctl: the clientv3 wrapper has no Marshal method
                from etcdkit.ctl.printers._gofmt import go_compact_text

                raise Unsupported("marshal unsupported for type clientv3.LeaseRevokeResponse ({"
                                  + go_compact_text(_response(args).header) + "})")
            if kind in _PB_HEADER_ONLY:
                return _response(args).header.SerializeToString().decode("utf-8", "surrogateescape")  # type: ignore[no-any-return]
            raise Unsupported
        raise Unsupported
