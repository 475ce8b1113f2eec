"""The catalogue of etcd's wire errors: gRPC status code + exact message.

Clients match these strings verbatim (Go clientv3 maps ``ErrorDesc(err)``
back to typed errors), so the server must send exactly these, and the client
maps them back to typed exceptions. One entry per error; both the server
(``server/rpc``) and the client (``client/exceptions``) import from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import grpc

__all__ = ["CATALOGUE", "WireError", "by_message"]


@dataclass(frozen=True, slots=True)
class WireError:
    """One etcd error as it travels on the wire."""

    name: str
    code: grpc.StatusCode
    message: str


def _e(name: str, code: grpc.StatusCode, message: str) -> WireError:
    return WireError(name, code, message)


_C = grpc.StatusCode

EMPTY_KEY: Final = _e("EmptyKey", _C.INVALID_ARGUMENT, "etcdserver: key is not provided")
KEY_NOT_FOUND: Final = _e("KeyNotFound", _C.INVALID_ARGUMENT, "etcdserver: key not found")
VALUE_PROVIDED: Final = _e("ValueProvided", _C.INVALID_ARGUMENT, "etcdserver: value is provided")
LEASE_PROVIDED: Final = _e("LeaseProvided", _C.INVALID_ARGUMENT, "etcdserver: lease is provided")
TOO_MANY_OPS: Final = _e("TooManyOps", _C.INVALID_ARGUMENT, "etcdserver: too many operations in txn request")
DUPLICATE_KEY: Final = _e("DuplicateKey", _C.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request")
INVALID_CLIENT_API_VERSION: Final = _e(
    "InvalidClientAPIVersion", _C.INVALID_ARGUMENT, "etcdserver: invalid client api version"
)
INVALID_SORT_OPTION: Final = _e("InvalidSortOption", _C.INVALID_ARGUMENT, "etcdserver: invalid sort option")
COMPACTED: Final = _e("Compacted", _C.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted")
FUTURE_REV: Final = _e("FutureRev", _C.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision")
NO_SPACE: Final = _e("NoSpace", _C.RESOURCE_EXHAUSTED, "etcdserver: mvcc: database space exceeded")
LEASE_NOT_FOUND: Final = _e("LeaseNotFound", _C.NOT_FOUND, "etcdserver: requested lease not found")
LEASE_EXIST: Final = _e("LeaseExist", _C.FAILED_PRECONDITION, "etcdserver: lease already exists")
LEASE_TTL_TOO_LARGE: Final = _e("LeaseTTLTooLarge", _C.OUT_OF_RANGE, "etcdserver: too large lease TTL")
WATCH_CANCELED: Final = _e("WatchCanceled", _C.CANCELLED, "etcdserver: watch canceled")
MEMBER_EXIST: Final = _e("MemberExist", _C.FAILED_PRECONDITION, "etcdserver: member ID already exist")
PEER_URL_EXIST: Final = _e("PeerURLExist", _C.FAILED_PRECONDITION, "etcdserver: Peer URLs already exists")
MEMBER_NOT_ENOUGH_STARTED: Final = _e(
    "MemberNotEnoughStarted",
    _C.FAILED_PRECONDITION,
    "etcdserver: re-configuration failed due to not enough started members",
)
MEMBER_BAD_URLS: Final = _e("MemberBadURLs", _C.INVALID_ARGUMENT, "etcdserver: given member URLs are invalid")
MEMBER_NOT_FOUND: Final = _e("MemberNotFound", _C.NOT_FOUND, "etcdserver: member not found")
MEMBER_NOT_LEARNER: Final = _e(
    "MemberNotLearner", _C.FAILED_PRECONDITION, "etcdserver: can only promote a learner member"
)
LEARNER_NOT_READY: Final = _e(
    "LearnerNotReady",
    _C.FAILED_PRECONDITION,
    "etcdserver: can only promote a learner member which is in sync with leader",
)
TOO_MANY_LEARNERS: Final = _e(
    "TooManyLearners", _C.FAILED_PRECONDITION, "etcdserver: too many learner members in cluster"
)
CLUSTER_ID_MISMATCH: Final = _e("ClusterIDMismatch", _C.FAILED_PRECONDITION, "etcdserver: cluster ID mismatch")
REQUEST_TOO_LARGE: Final = _e("RequestTooLarge", _C.INVALID_ARGUMENT, "etcdserver: request is too large")
TOO_MANY_REQUESTS: Final = _e("TooManyRequests", _C.RESOURCE_EXHAUSTED, "etcdserver: too many requests")
ROOT_USER_NOT_EXIST: Final = _e("RootUserNotExist", _C.FAILED_PRECONDITION, "etcdserver: root user does not exist")
ROOT_ROLE_NOT_EXIST: Final = _e(
    "RootRoleNotExist", _C.FAILED_PRECONDITION, "etcdserver: root user does not have root role"
)
USER_ALREADY_EXIST: Final = _e("UserAlreadyExist", _C.FAILED_PRECONDITION, "etcdserver: user name already exists")
USER_EMPTY: Final = _e("UserEmpty", _C.INVALID_ARGUMENT, "etcdserver: user name is empty")
USER_NOT_FOUND: Final = _e("UserNotFound", _C.FAILED_PRECONDITION, "etcdserver: user name not found")
ROLE_ALREADY_EXIST: Final = _e("RoleAlreadyExist", _C.FAILED_PRECONDITION, "etcdserver: role name already exists")
ROLE_NOT_FOUND: Final = _e("RoleNotFound", _C.FAILED_PRECONDITION, "etcdserver: role name not found")
ROLE_EMPTY: Final = _e("RoleEmpty", _C.INVALID_ARGUMENT, "etcdserver: role name is empty")
AUTH_FAILED: Final = _e(
    "AuthFailed", _C.INVALID_ARGUMENT, "etcdserver: authentication failed, invalid user ID or password"
)
PERMISSION_NOT_GIVEN: Final = _e("PermissionNotGiven", _C.INVALID_ARGUMENT, "etcdserver: permission not given")
PERMISSION_DENIED: Final = _e("PermissionDenied", _C.PERMISSION_DENIED, "etcdserver: permission denied")
ROLE_NOT_GRANTED: Final = _e("RoleNotGranted", _C.FAILED_PRECONDITION, "etcdserver: role is not granted to the user")
PERMISSION_NOT_GRANTED: Final = _e(
    "PermissionNotGranted", _C.FAILED_PRECONDITION, "etcdserver: permission is not granted to the role"
)
AUTH_NOT_ENABLED: Final = _e("AuthNotEnabled", _C.FAILED_PRECONDITION, "etcdserver: authentication is not enabled")
INVALID_AUTH_TOKEN: Final = _e("InvalidAuthToken", _C.UNAUTHENTICATED, "etcdserver: invalid auth token")
INVALID_AUTH_MGMT: Final = _e("InvalidAuthMgmt", _C.INVALID_ARGUMENT, "etcdserver: invalid auth management")
AUTH_OLD_REVISION: Final = _e("AuthOldRevision", _C.INVALID_ARGUMENT, "etcdserver: revision of auth store is old")
NO_LEADER: Final = _e("NoLeader", _C.UNAVAILABLE, "etcdserver: no leader")
NOT_LEADER: Final = _e("NotLeader", _C.FAILED_PRECONDITION, "etcdserver: not leader")
LEADER_CHANGED: Final = _e("LeaderChanged", _C.UNAVAILABLE, "etcdserver: leader changed")
NOT_CAPABLE: Final = _e("NotCapable", _C.FAILED_PRECONDITION, "etcdserver: not capable")
STOPPED: Final = _e("Stopped", _C.UNAVAILABLE, "etcdserver: server stopped")
TIMEOUT: Final = _e("Timeout", _C.UNAVAILABLE, "etcdserver: request timed out")
TIMEOUT_DUE_TO_LEADER_FAIL: Final = _e(
    "TimeoutDueToLeaderFail",
    _C.UNAVAILABLE,
    "etcdserver: request timed out, possibly due to previous leader failure",
)
TIMEOUT_DUE_TO_CONNECTION_LOST: Final = _e(
    "TimeoutDueToConnectionLost",
    _C.UNAVAILABLE,
    "etcdserver: request timed out, possibly due to connection lost",
)
TIMEOUT_WAIT_APPLIED_INDEX: Final = _e(
    "TimeoutWaitAppliedIndex",
    _C.UNAVAILABLE,
    "etcdserver: request timed out, waiting for the applied index took too long",
)
UNHEALTHY: Final = _e("Unhealthy", _C.UNAVAILABLE, "etcdserver: unhealthy cluster")
CORRUPT: Final = _e("Corrupt", _C.DATA_LOSS, "etcdserver: corrupt cluster")
NOT_SUPPORTED_FOR_LEARNER: Final = _e(
    "NotSupportedForLearner", _C.FAILED_PRECONDITION, "etcdserver: rpc not supported for learner"
)
BAD_LEADER_TRANSFEREE: Final = _e("BadLeaderTransferee", _C.FAILED_PRECONDITION, "etcdserver: bad leader transferee")
WRONG_DOWNGRADE_VERSION_FORMAT: Final = _e(
    "WrongDowngradeVersionFormat", _C.INVALID_ARGUMENT, "etcdserver: wrong downgrade target version format"
)
INVALID_DOWNGRADE_TARGET_VERSION: Final = _e(
    "InvalidDowngradeTargetVersion", _C.INVALID_ARGUMENT, "etcdserver: invalid downgrade target version"
)
CLUSTER_VERSION_UNAVAILABLE: Final = _e(
    "ClusterVersionUnavailable", _C.FAILED_PRECONDITION, "etcdserver: cluster version not found during downgrade"
)
DOWNGRADE_IN_PROCESS: Final = _e(
    "DowngradeInProcess", _C.FAILED_PRECONDITION, "etcdserver: cluster has a downgrade job in progress"
)
NO_INFLIGHT_DOWNGRADE: Final = _e(
    "NoInflightDowngrade", _C.FAILED_PRECONDITION, "etcdserver: no inflight downgrade job"
)
CANCELED: Final = _e("Canceled", _C.CANCELLED, "etcdserver: request canceled")
DEADLINE_EXCEEDED: Final = _e("DeadlineExceeded", _C.DEADLINE_EXCEEDED, "etcdserver: context deadline exceeded")

# Not in rpctypes, but reach clients as watch cancel reasons / election errors.
WATCH_DUPLICATE_ID: Final = _e("WatchDuplicateID", _C.UNKNOWN, "mvcc: duplicate watch ID provided on the WatchStream")
WATCH_EMPTY_RANGE: Final = _e("WatchEmptyRange", _C.UNKNOWN, "mvcc: watcher range is empty")
ELECTION_NOT_LEADER: Final = _e("ElectionNotLeader", _C.UNKNOWN, "election: not leader")
ELECTION_NO_LEADER: Final = _e("ElectionNoLeader", _C.UNKNOWN, "election: no leader")

CATALOGUE: Final[tuple[WireError, ...]] = tuple(v for v in list(globals().values()) if isinstance(v, WireError))
_BY_MESSAGE: Final[dict[str, WireError]] = {e.message: e for e in CATALOGUE}


def by_message(message: str) -> WireError | None:
    """Return the catalogue entry whose message is exactly ``message``, if any."""
    return _BY_MESSAGE.get(message)
