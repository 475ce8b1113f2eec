"""The conformance harness: one case, two servers, identical transcripts.

A case is a function ``case(c: Conn) -> None`` registered with ``@case``. It
talks to a server only through ``c`` (raw gRPC stubs, so the oracle does not
depend on our own client) and records what it observes with ``c.call`` /
``c.record``. The test runs every case against real etcd and against etcdkit
and asserts the two transcripts are equal.

Normalisation (the only differences allowed):

* response headers lose ``cluster_id``, ``member_id`` and ``raft_term``;
* every revision-valued field is made relative to the revision at the start
  of the case, so cases can share one long-running server per target. A case
  that needs a pristine store (revision 1, whole-store hashes) asks for
  ``fresh=True`` and gets servers of its own;
* keys are namespaced per case (``c.k(b"x")``), so cases do not see each other.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, overload

import grpc
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from etcdkit.api.pb import (
    rpc_pb2,
    rpc_pb2_grpc,
    v3election_pb2_grpc,
    v3lock_pb2_grpc,
)

REVISION_FIELDS = frozenset({"revision", "create_revision", "mod_revision", "compact_revision", "hash_revision", "rev"})
HEADER_DROP = ("cluster_id", "member_id", "raft_term")
# bytes fields MessageToDict renders as base64; shown decoded (latin-1, lossless) so diffs are readable.
BYTES_FIELDS = frozenset({"key", "value", "range_end", "keys"})


@dataclass(frozen=True)
class CaseSpec:
    name: str
    fn: Callable[[Conn], None]
    fresh: bool = False
    extra_args: tuple[str, ...] = ()


CASES: dict[str, CaseSpec] = {}


CaseFn = Callable[["Conn"], None]


@overload
def case(fn: CaseFn) -> CaseFn: ...
@overload
def case(*, fresh: bool = False, extra_args: tuple[str, ...] = ()) -> Callable[[CaseFn], CaseFn]: ...
def case(
    fn: CaseFn | None = None, *, fresh: bool = False, extra_args: tuple[str, ...] = ()
) -> CaseFn | Callable[[CaseFn], CaseFn]:
    """Register a conformance case (usable as ``@case`` or ``@case(fresh=True)``)."""

    def register(f: CaseFn) -> CaseFn:
        name = f.__name__.removeprefix("case_")
        if name in CASES:
            raise ValueError(f"duplicate conformance case {name}")
        CASES[name] = CaseSpec(name, f, fresh, extra_args)
        return f

    return register(fn) if fn is not None else register


@dataclass
class Conn:
    """What a case gets: stubs for one server, a key namespace and a transcript."""

    channel: grpc.Channel
    ns: bytes
    base_rev: int = 0
    transcript: list[Any] = field(default_factory=list)
    timeout: float = 10.0

    def __post_init__(self) -> None:
        ch = self.channel
        self.kv = rpc_pb2_grpc.KVStub(ch)
        self.watch = rpc_pb2_grpc.WatchStub(ch)
        self.lease = rpc_pb2_grpc.LeaseStub(ch)
        self.cluster = rpc_pb2_grpc.ClusterStub(ch)
        self.maintenance = rpc_pb2_grpc.MaintenanceStub(ch)
        self.auth = rpc_pb2_grpc.AuthStub(ch)
        self.lock = v3lock_pb2_grpc.LockStub(ch)
        self.election = v3election_pb2_grpc.ElectionStub(ch)
        if not self.base_rev:
            self.base_rev = self.current_revision()

    # --- keys -----------------------------------------------------------
    def k(self, key: bytes | str) -> bytes:
        """The key ``key`` inside this case's namespace."""
        return self.ns + (key.encode() if isinstance(key, str) else key)

    # --- calls ------------------------------------------------------------
    def current_revision(self) -> int:
        resp = self.kv.Range(rpc_pb2.RangeRequest(key=b"\x00", count_only=True), timeout=self.timeout)
        return int(resp.header.revision)

    def try_call(self, method: Callable[..., Any], request: Message, **kw: Any) -> Any:
        """Call ``method``; return the response, or the ``grpc.RpcError`` it raised."""
        kw.setdefault("timeout", self.timeout)
        try:
            return method(request, **kw)
        except grpc.RpcError as err:
            return err

    def call(self, method: Callable[..., Any], request: Message, label: str = "", **kw: Any) -> Any:
        """Call and record the normalised outcome; return the raw response or error."""
        out = self.try_call(method, request, **kw)
        self.record(out, label=label)
        return out

    def record(self, value: Any, label: str = "") -> None:
        """Append a normalised observation (message, error, or plain data)."""
        self.transcript.append((label, self.normalise(value)))

    def normalise(self, value: Any) -> Any:
        if isinstance(value, grpc.RpcError):
            return {"error": value.code().name, "details": value.details()}  # type: ignore[attr-defined]
        if isinstance(value, Message):
            d = MessageToDict(value, preserving_proto_field_name=True, use_integers_for_enums=False)
            return self._norm_dict(d)
        if isinstance(value, list | tuple):
            return [self.normalise(v) for v in value]
        return value

    def rel(self, rev: int) -> int:
        """A revision relative to the case start (0 stays 0)."""
        return rev - self.base_rev if rev > 0 else rev

    def _norm_dict(self, d: Any) -> Any:
        if isinstance(d, dict):
            out: dict[str, Any] = {}
            for key, val in d.items():
                if key == "header" and isinstance(val, dict):
                    val = {k: v for k, v in val.items() if k not in HEADER_DROP}
                if key in REVISION_FIELDS and isinstance(val, str | int):
                    out[key] = self.rel(int(val))
                elif key in BYTES_FIELDS and isinstance(val, str):
                    out[key] = _b64(val)
                elif key in BYTES_FIELDS and isinstance(val, list):
                    out[key] = [_b64(v) if isinstance(v, str) else v for v in val]
                else:
                    out[key] = self._norm_dict(val)
            return out
        if isinstance(d, list):
            return [self._norm_dict(x) for x in d]
        return d


def _b64(text: str) -> str:
    """Decode a base64 bytes field to a readable (latin-1, so lossless) string."""
    try:
        return base64.b64decode(text, validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return text


def watch_stream(conn: Conn, requests: Iterator[rpc_pb2.WatchRequest] | list[rpc_pb2.WatchRequest], **kw: Any) -> Any:
    """Open a Watch stream fed by ``requests`` (a helper for watch cases)."""
    kw.setdefault("timeout", conn.timeout)
    return conn.watch.Watch(iter(requests), **kw)
