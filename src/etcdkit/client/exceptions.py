"""Every exception the client raises derives from ``EtcdError``.

::

    EtcdError
    ├── ClientClosedError            the client (or watch, keeper) was closed
    │   └── ForkUnsafeError          a forked child cannot use gRPC's asyncio layer (docs/client.md)
    ├── DeadlineExceededError        per-request timeout hit (also a TimeoutError)
    │   └── ServerDeadlineExceededError   "etcdserver: context deadline exceeded"
    ├── RequestCanceledError         the call was cancelled (gRPC CANCELLED)
    │   └── ServerCanceledError      "etcdserver: request canceled"
    ├── UnavailableError             an endpoint could not be reached or dropped the call
    │   └── ClusterError             every endpoint failed; .errors maps endpoint -> error
    ├── WatchError
    │   ├── WatchCompactedError      history before .compact_revision is gone
    │   └── WatchCanceledByServer    the server ended a watch for a reason we cannot resume
    ├── LeaseKeepAliveLostError      a kept-alive lease expired or vanished
    ├── SnapshotIntegrityError       snapshot SHA-256 trailer mismatch
    ├── MessageTooLargeError         a message exceeded max_send_bytes / max_recv_bytes
    └── ServerError                  an error reply from etcd (.wire: the catalogue entry)
        ├── UnknownServerError       a status we do not know (.code, .details)
        ├── KVError          EmptyKey, KeyNotFound, ValueProvided, LeaseProvided, TooManyOps,
        │                    DuplicateKey, InvalidSortOption, RequestTooLarge, InvalidClientAPIVersion
        ├── RevisionError    CompactedError, FutureRevisionError
        ├── QuotaError       NoSpace, TooManyRequests
        ├── LeaseError       LeaseNotFound, LeaseExist, LeaseTTLTooLarge
        ├── WatchServerError WatchCanceled, WatchDuplicateID, WatchEmptyRange
        ├── MemberError      MemberExist, PeerURLExist, MemberNotEnoughStarted, MemberBadURLs,
        │                    MemberNotFound, MemberNotLearner, LearnerNotReady, TooManyLearners,
        │                    ClusterIDMismatch, NotSupportedForLearner, BadLeaderTransferee
        ├── AuthError        RootUserNotExist, RootRoleNotExist, UserAlreadyExist, UserEmpty,
        │                    UserNotFound, RoleAlreadyExist, RoleNotFound, RoleEmpty, AuthFailed,
        │                    PermissionNotGiven, PermissionDenied, RoleNotGranted,
        │                    PermissionNotGranted, AuthNotEnabled, InvalidAuthToken,
        │                    InvalidAuthMgmt, AuthOldRevision
        ├── ServerUnavailableError  NoLeader, NotLeader, LeaderChanged, NotCapable, Stopped,
        │                    ServerTimeout, TimeoutDueToLeaderFail, TimeoutDueToConnectionLost,
        │                    TimeoutWaitAppliedIndex, Unhealthy
        ├── CorruptError
        ├── DowngradeError   WrongDowngradeVersionFormat, InvalidDowngradeTargetVersion,
        │                    ClusterVersionUnavailable, DowngradeInProcess, NoInflightDowngrade
        └── ElectionError    ElectionNotLeader, ElectionNoLeader

(every leaf name above ends in ``Error``: ``NoLeaderError``, ``AuthFailedError``...).

Contract: each ``ServerError`` subclass has ``wire``, its entry in
``etcdkit.api.errors``; ``etcdkit.client.server_errors.error_for_message`` maps a server's status
details back to the class, so every string in the catalogue has exactly one
class. A deadline is never reported as a cancellation and vice versa. The
caller's own ``asyncio.CancelledError`` is never wrapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from etcdkit.api import errors as _w

__all__ = [
    "AuthError",
    "ClientClosedError",
    "ClusterError",
    "CorruptError",
    "DeadlineExceededError",
    "DowngradeError",
    "ElectionError",
    "EtcdError",
    "ForkUnsafeError",
    "KVError",
    "LeaseError",
    "LeaseKeepAliveLostError",
    "MemberError",
    "MessageTooLargeError",
    "QuotaError",
    "RequestCanceledError",
    "RevisionError",
    "ServerCanceledError",
    "ServerDeadlineExceededError",
    "ServerError",
    "ServerUnavailableError",
    "SnapshotIntegrityError",
    "UnavailableError",
    "UnknownServerError",
    "WatchCanceledByServer",
    "WatchCompactedError",
    "WatchError",
    "WatchServerError",
]


class EtcdError(Exception):
    """Root of every exception raised by ``etcdkit.client``."""


class ClientClosedError(EtcdError):
    """The client, watch or keeper was used after ``close()`` (or in a forked child)."""


class ForkUnsafeError(ClientClosedError):
    """This process was forked while gRPC asyncio channels were open; streams cannot work here.

    grpc.aio's process-wide completion queue is served by a thread that does
    not exist in the child, and it is never re-initialised there, so any
    asyncio call (watch, keep-alive, snapshot, ``AsyncClient``) would never
    complete. Blocking unary calls of a new ``Client`` still work.
    """


class DeadlineExceededError(EtcdError, TimeoutError):
    """The per-request deadline passed before an answer arrived."""


class RequestCanceledError(EtcdError):
    """The call was cancelled (gRPC ``CANCELLED``), not timed out."""


class UnavailableError(EtcdError):
    """An endpoint could not be reached, or the connection broke during a call."""

    def __init__(self, message: str, endpoint: str = "") -> None:
        super().__init__(f"{endpoint}: {message}" if endpoint else message)
        self.endpoint = endpoint


class ClusterError(UnavailableError):
    """Every endpoint failed; ``errors`` maps each endpoint to its last error."""

    def __init__(self, errors: Mapping[str, BaseException]) -> None:
        self.errors: dict[str, BaseException] = dict(errors)
        detail = "; ".join(f"{ep}: {type(e).__name__}: {e}" for ep, e in self.errors.items())
        super().__init__(f"all {len(self.errors)} endpoints failed: {detail}")


class WatchError(EtcdError):
    """A watch ended; the watch yields no more events."""


class WatchCompactedError(WatchError):
    """The revisions the watch needs were compacted (``compact_revision`` is the oldest left)."""

    def __init__(self, compact_revision: int, next_revision: int = 0) -> None:
        super().__init__(f"watch needs revision {next_revision} but history was compacted up to {compact_revision}")
        self.compact_revision = compact_revision
        self.next_revision = next_revision


class WatchCanceledByServer(WatchError):
    """The server cancelled the watch for a reason that resuming cannot fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason or "watch canceled by server")
        self.reason = reason


class LeaseKeepAliveLostError(EtcdError):
    """A lease being kept alive expired or was revoked; its keys are gone."""

    def __init__(self, lease_id: int, reason: str) -> None:
        super().__init__(f"lease {lease_id:x} lost: {reason}")
        self.lease_id = lease_id
        self.reason = reason


class MessageTooLargeError(EtcdError):
    """A request or response exceeded the client's ``max_send_bytes``/``max_recv_bytes``.

    (The server's own limit, ``--max-request-bytes``, gives ``RequestTooLargeError``.)
    """


class SnapshotIntegrityError(EtcdError):
    """The snapshot stream's SHA-256 trailer did not match its content."""


class ServerError(EtcdError):
    """An error reply from an etcd server. ``wire`` is its catalogue entry."""

    wire: ClassVar[_w.WireError | None] = None

    def __init__(self, message: str = "", endpoint: str = "") -> None:
        text = message or (self.wire.message if self.wire else "")
        super().__init__(f"{text} ({endpoint})" if endpoint else text)
        self.message = text
        self.endpoint = endpoint


class UnknownServerError(ServerError):
    """A status whose details match nothing in the catalogue."""

    def __init__(self, message: str = "", endpoint: str = "", code: str = "") -> None:
        super().__init__(f"{code}: {message}" if code else message, endpoint)
        self.code = code


class KVError(ServerError):
    """Invalid KV or txn request."""


class RevisionError(ServerError):
    """The requested revision is compacted or in the future."""


class QuotaError(ServerError):
    """The server refused for lack of space or capacity."""


class LeaseError(ServerError):
    """Lease errors."""


class WatchServerError(ServerError):
    """Watch cancel reasons sent by the server."""


class MemberError(ServerError):
    """Membership change errors."""


class AuthError(ServerError):
    """Authentication and authorisation errors."""


class ServerUnavailableError(ServerError):
    """The member cannot serve now (no leader, timeouts, stopping); reads may retry elsewhere."""


class DowngradeError(ServerError):
    """Cluster downgrade errors."""


class ElectionError(ServerError):
    """Election service errors."""


class CorruptError(ServerError):
    """``etcdserver: corrupt cluster``"""

    wire = _w.CORRUPT


class ServerCanceledError(ServerError, RequestCanceledError):
    """``etcdserver: request canceled``"""

    wire = _w.CANCELED


class ServerDeadlineExceededError(ServerError, DeadlineExceededError):
    """``etcdserver: context deadline exceeded``"""

    wire = _w.DEADLINE_EXCEEDED
