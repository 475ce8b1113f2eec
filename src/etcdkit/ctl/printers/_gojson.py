"""Go ``encoding/json`` output for etcd's gogo-generated response structs.

``pb_to_go(msg)`` turns a protobuf message into an ordered Python structure
shaped like ``json.Marshal`` of the Go struct: keys are the proto field names
(gogo's ``json:"name,omitempty"`` tags), fields in declaration order, zero
values omitted (``omitempty``), a oneof becomes a key named after the Go
interface field (``Request``/``Response``/``TargetUnion``) holding the set
member, int64/uint64 are numbers, enums are numbers and bytes are base64.
``encode(value)`` writes such a structure compactly, exactly as Go does.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from etcdkit.ctl.printers._gofmt import go_json_bytes, go_json_string

__all__ = ["encode", "pb_to_go"]

# Go names of oneof interface fields (CamelCase of the oneof name).
_ONEOF_GO_NAME = {"request": "Request", "response": "Response", "target_union": "TargetUnion"}

# Message types whose Go field is a value, not a pointer (gogoproto.nullable=false): always present.
_NON_NULLABLE: frozenset[str] = frozenset()


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _scalar_zero(field: Any, value: Any) -> bool:
    return not value


def _convert_scalar(field: Any, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_BYTES:
        return bytes(value)
    return value


def pb_to_go(msg: Message) -> dict[str, Any]:
    """Return ``msg`` as the ordered dict ``json.Marshal`` would produce for its gogo struct."""
    out: dict[str, Any] = {}
    desc = msg.DESCRIPTOR
    done_oneofs: set[str] = set()
    for field in desc.fields:
        oneof = field.containing_oneof
        if oneof is not None and not oneof.name.startswith("_"):
            if oneof.name in done_oneofs:
                continue
            done_oneofs.add(oneof.name)
            which = msg.WhichOneof(oneof.name)
            if which is None:
                continue
            member = desc.fields_by_name[which]
            val = getattr(msg, which)
            inner = pb_to_go(val) if member.type == FieldDescriptor.TYPE_MESSAGE else _convert_scalar(member, val)
            wrapper: dict[str, Any] = {}
            if member.type == FieldDescriptor.TYPE_MESSAGE or not _scalar_zero(member, val):
                wrapper[_camel(member.name)] = inner  # oneof wrapper structs have no json tags
            out[_ONEOF_GO_NAME.get(oneof.name, _camel(oneof.name))] = wrapper
            continue
        value = getattr(msg, field.name)
        if field.is_repeated:
            if len(value) == 0:
                continue
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                out[field.name] = [pb_to_go(v) for v in value]
            else:
                out[field.name] = [_convert_scalar(field, v) for v in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if msg.HasField(field.name) or getattr(field.message_type, "full_name", "") in _NON_NULLABLE:
                out[field.name] = pb_to_go(value)
        elif not _scalar_zero(field, value):
            out[field.name] = _convert_scalar(field, value)
    return out


def encode(value: Any) -> str:
    """Compact Go-style JSON for dicts (ordered), lists, bool, int, str (Go string) and bytes (base64)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return go_json_string(value)
    if isinstance(value, bytes | bytearray):
        return go_json_bytes(bytes(value))
    if isinstance(value, dict):
        return "{" + ",".join(go_json_string(k) + ":" + encode(v) for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(encode(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")
