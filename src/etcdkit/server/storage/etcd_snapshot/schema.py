"""etcd's schema inside its bbolt database (etcd 3.4/3.5), as plain data.

Buckets and their entries, as real etcd writes them:

* ``key``: revision key -> marshaled ``mvccpb.KeyValue``. A revision key is
  8-byte big-endian main revision, ``_``, 8-byte big-endian sub revision (17
  bytes), plus a trailing ``t`` for a deletion (tombstone, whose KeyValue holds
  only the key). Byte order is revision order.
* ``meta``: ``consistent_index`` and (3.5) ``term`` as 8-byte big-endian;
  ``scheduledCompactRev`` and ``finishedCompactRev`` as 17-byte revision keys
  (sub 0). Other meta keys (3.5's ``confState``, ``storageVersion``) are kept
  as they are.
* ``lease``: 8-byte big-endian lease ID -> ``leasepb.Lease`` (ID, TTL,
  RemainingTTL: :class:`LeaseRecord`).
* ``members``: member ID in lower-case hex -> JSON ``{"id", "peerURLs",
  "name", "clientURLs"[, "isLearner"]}``; ``members_removed``: hex ID ->
  ``removed``.
* ``cluster``: ``clusterVersion`` -> e.g. ``3.4.0``.
* ``alarm``: marshaled ``AlarmMember`` -> empty value.
* ``auth``: ``authEnabled`` -> one byte 0/1, ``authRevision`` -> 8-byte
  big-endian; ``authUsers``: name -> ``authpb.User``; ``authRoles``: name ->
  ``authpb.Role``.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from etcdkit.api.pb import auth_pb2, internal_pb2, kv_pb2, rpc_pb2

__all__ = [
    "BUCKET_ALARM",
    "BUCKET_AUTH",
    "BUCKET_AUTH_ROLES",
    "BUCKET_AUTH_USERS",
    "BUCKET_CLUSTER",
    "BUCKET_KEY",
    "BUCKET_LEASE",
    "BUCKET_MEMBERS",
    "BUCKET_MEMBERS_REMOVED",
    "BUCKET_META",
    "ETCD_BUCKETS",
    "EtcdSnapshotData",
    "MemberRecord",
    "SnapshotMeta",
    "decode_revision_key",
    "encode_revision_key",
    "iter_key_values",
]

BUCKET_KEY = b"key"
BUCKET_META = b"meta"
BUCKET_LEASE = b"lease"
BUCKET_MEMBERS = b"members"
BUCKET_MEMBERS_REMOVED = b"members_removed"
BUCKET_CLUSTER = b"cluster"
BUCKET_ALARM = b"alarm"
BUCKET_AUTH = b"auth"
BUCKET_AUTH_USERS = b"authUsers"
BUCKET_AUTH_ROLES = b"authRoles"
ETCD_BUCKETS = (
    BUCKET_KEY,
    BUCKET_META,
    BUCKET_LEASE,
    BUCKET_MEMBERS,
    BUCKET_MEMBERS_REMOVED,
    BUCKET_CLUSTER,
    BUCKET_ALARM,
    BUCKET_AUTH,
    BUCKET_AUTH_USERS,
    BUCKET_AUTH_ROLES,
)

META_CONSISTENT_INDEX = b"consistent_index"
META_TERM = b"term"
META_SCHEDULED_COMPACT = b"scheduledCompactRev"
META_FINISHED_COMPACT = b"finishedCompactRev"
CLUSTER_VERSION = b"clusterVersion"
AUTH_ENABLED = b"authEnabled"
AUTH_REVISION = b"authRevision"

_REV = struct.Struct(">QcQ")


def encode_revision_key(main: int, sub: int = 0, *, tombstone: bool = False) -> bytes:
    """The ``key``-bucket key of revision ``(main, sub)`` (with ``t`` appended for a tombstone)."""
    raw = _REV.pack(main, b"_", sub)
    return raw + b"t" if tombstone else raw


def decode_revision_key(raw: bytes) -> tuple[int, int, bool]:
    """``(main, sub, tombstone)`` of a revision key; ``ValueError`` if malformed."""
    if len(raw) not in (17, 18) or raw[8:9] != b"_" or (len(raw) == 18 and raw[17:] != b"t"):
        raise ValueError(f"malformed revision key {raw!r}")
    main, _sep, sub = _REV.unpack_from(raw, 0)
    return int(main), int(sub), len(raw) == 18


def iter_key_values(entries: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[int, int, bool, kv_pb2.KeyValue]]:
    """Decode ``key``-bucket entries into ``(main, sub, tombstone, KeyValue)``."""
    for rev_key, value in entries:
        main, sub, tomb = decode_revision_key(rev_key)
        yield main, sub, tomb, kv_pb2.KeyValue.FromString(value)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A cluster member as etcd stores it in the ``members`` bucket."""

    id: int
    name: str = ""
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()
    is_learner: bool = False

    def key(self) -> bytes:
        return format(self.id, "x").encode()

    def encode(self) -> bytes:
        doc: dict[str, object] = {
            "id": self.id,
            "peerURLs": list(self.peer_urls),
            "name": self.name,
            "clientURLs": list(self.client_urls),
        }
        if self.is_learner:
            doc["isLearner"] = True
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, raw: bytes) -> MemberRecord:
        doc = json.loads(raw)
        return cls(
            id=int(doc["id"]),
            name=str(doc.get("name", "")),
            peer_urls=tuple(doc.get("peerURLs") or ()),
            client_urls=tuple(doc.get("clientURLs") or ()),
            is_learner=bool(doc.get("isLearner", False)),
        )


@dataclass(slots=True)
class SnapshotMeta:
    """The ``meta`` bucket: raft position and compaction progress (revisions are main revisions)."""

    consistent_index: int = 0
    term: int | None = None
    scheduled_compact_revision: int | None = None
    finished_compact_revision: int | None = None
    extra: dict[bytes, bytes] = field(default_factory=dict)


@dataclass(slots=True)
class EtcdSnapshotData:
    """The logical content of an etcd backend database.

    ``key_entries`` yields ``(revision key, marshaled mvccpb.KeyValue)`` in
    strictly increasing revision order; it may be a one-shot iterator when
    writing, and is re-iterable (streaming from the file) when read.
    ``auth_enabled`` / ``auth_revision`` are ``None`` when the key is absent
    (etcd writes ``authEnabled`` only once auth was enabled or disabled;
    absent means disabled). ``extra_buckets`` carries buckets outside etcd's schema (flat, in key
    order) so a read-then-write round trip keeps them.
    """

    key_entries: Iterable[tuple[bytes, bytes]] = ()
    meta: SnapshotMeta = field(default_factory=SnapshotMeta)
    leases: list[internal_pb2.LeaseRecord] = field(default_factory=list)
    members: list[MemberRecord] = field(default_factory=list)
    removed_members: list[int] = field(default_factory=list)
    cluster_version: str | None = None
    alarms: list[rpc_pb2.AlarmMember] = field(default_factory=list)
    auth_enabled: bool | None = None
    auth_revision: int | None = None
    users: list[auth_pb2.User] = field(default_factory=list)
    roles: list[auth_pb2.Role] = field(default_factory=list)
    extra_buckets: dict[bytes, list[tuple[bytes, bytes]]] = field(default_factory=dict)
