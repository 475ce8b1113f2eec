"""Typed responses of the client: plain frozen dataclasses, never protobufs.

Every response carries the ``ResponseHeader`` of the member that answered.
Keys and values are ``bytes``; with a namespace configured, keys are shown
without the namespace prefix. The module does no I/O and imports no gRPC,
so the sans-IO cores in ``_protocol`` can use these types too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = [
    "Alarm",
    "AlarmType",
    "AuthStatus",
    "DeleteResponse",
    "Event",
    "EventType",
    "GetResponse",
    "HashKVResponse",
    "KeyValue",
    "LeaseGrant",
    "LeaseTimeToLive",
    "Member",
    "MemberListResponse",
    "Permission",
    "PermissionType",
    "PutResponse",
    "ResponseHeader",
    "SortOrder",
    "SortTarget",
    "StatusResponse",
    "TxnResponse",
    "WatchBatch",
]


@dataclass(frozen=True, slots=True)
class ResponseHeader:
    """Which member answered, and the store revision when it did."""

    cluster_id: int = 0
    member_id: int = 0
    revision: int = 0
    raft_term: int = 0


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One key at one revision (``mvccpb.KeyValue``)."""

    key: bytes
    value: bytes = b""
    create_revision: int = 0
    mod_revision: int = 0
    version: int = 0
    lease: int = 0


class EventType(enum.Enum):
    PUT = 0
    DELETE = 1


@dataclass(frozen=True, slots=True)
class Event:
    """One change. ``prev_kv`` is set only when the watch asked for it.

    ``synthetic`` is true for events made up by a resync (the real history
    was compacted): they bring the watcher to the same state, not the same
    history.
    """

    type: EventType
    kv: KeyValue
    prev_kv: KeyValue | None = None
    synthetic: bool = False


@dataclass(frozen=True, slots=True)
class WatchBatch:
    """What a watch yields: all events of one or more whole revisions.

    A revision is never split across two batches. ``revision`` is the
    header revision of the response (the store revision when it was sent).
    ``resync`` marks a batch of synthetic events after a compaction in resync
    mode: the state is right, the intermediate history is lost.
    """

    events: tuple[Event, ...]
    header: ResponseHeader
    resync: bool = False

    @property
    def revision(self) -> int:
        return self.header.revision


class SortOrder(enum.Enum):
    NONE = 0
    ASCEND = 1
    DESCEND = 2


class SortTarget(enum.Enum):
    KEY = 0
    VERSION = 1
    CREATE = 2
    MOD = 3
    VALUE = 4


@dataclass(frozen=True, slots=True)
class GetResponse:
    header: ResponseHeader
    kvs: tuple[KeyValue, ...] = ()
    count: int = 0
    more: bool = False

    @property
    def value(self) -> bytes | None:
        """Value of the first key, or None when nothing matched."""
        return self.kvs[0].value if self.kvs else None


@dataclass(frozen=True, slots=True)
class PutResponse:
    header: ResponseHeader
    prev_kv: KeyValue | None = None


@dataclass(frozen=True, slots=True)
class DeleteResponse:
    header: ResponseHeader
    deleted: int = 0
    prev_kvs: tuple[KeyValue, ...] = ()


@dataclass(frozen=True, slots=True)
class TxnResponse:
    header: ResponseHeader
    succeeded: bool
    responses: tuple[GetResponse | PutResponse | DeleteResponse | TxnResponse, ...] = ()


@dataclass(frozen=True, slots=True)
class LeaseGrant:
    header: ResponseHeader
    id: int
    ttl: int


@dataclass(frozen=True, slots=True)
class LeaseTimeToLive:
    """``ttl == -1`` means the lease does not exist (expired or revoked)."""

    header: ResponseHeader
    id: int
    ttl: int
    granted_ttl: int
    keys: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    peer_urls: tuple[str, ...] = ()
    client_urls: tuple[str, ...] = ()
    is_learner: bool = False


@dataclass(frozen=True, slots=True)
class MemberListResponse:
    header: ResponseHeader
    members: tuple[Member, ...] = ()
    member: Member | None = None  # the added member, for member_add


@dataclass(frozen=True, slots=True)
class StatusResponse:
    header: ResponseHeader
    version: str
    db_size: int
    leader: int
    raft_index: int
    raft_term: int
    raft_applied_index: int = 0
    errors: tuple[str, ...] = ()
    db_size_in_use: int = 0
    is_learner: bool = False


@dataclass(frozen=True, slots=True)
class HashKVResponse:
    header: ResponseHeader
    hash: int
    compact_revision: int


class AlarmType(enum.Enum):
    NONE = 0
    NOSPACE = 1
    CORRUPT = 2


@dataclass(frozen=True, slots=True)
class Alarm:
    member_id: int
    alarm: AlarmType


@dataclass(frozen=True, slots=True)
class AuthStatus:
    header: ResponseHeader
    enabled: bool
    auth_revision: int = 0


class PermissionType(enum.Enum):
    READ = 0
    WRITE = 1
    READWRITE = 2


@dataclass(frozen=True, slots=True)
class Permission:
    """A role's permission on ``[key, range_end)`` (etcd range conventions)."""

    type: PermissionType
    key: bytes
    range_end: bytes = field(default=b"")
