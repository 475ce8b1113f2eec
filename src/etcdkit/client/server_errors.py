"""One exception class per etcd wire error (see ``etcdkit.api.errors``), and the mapping back.

Generated once from the catalogue and kept by hand since; a unit test checks
that every catalogue message maps to exactly one class here or in
``exceptions``.
"""

from __future__ import annotations

from etcdkit.api import errors as _w
from etcdkit.client.exceptions import (
    AuthError,
    DowngradeError,
    ElectionError,
    KVError,
    LeaseError,
    MemberError,
    QuotaError,
    RevisionError,
    ServerError,
    ServerUnavailableError,
    UnknownServerError,
    WatchServerError,
)

__all__ = [
    "AuthFailedError",
    "AuthNotEnabledError",
    "AuthOldRevisionError",
    "BadLeaderTransfereeError",
    "ClusterIDMismatchError",
    "ClusterVersionUnavailableError",
    "CompactedError",
    "DowngradeInProcessError",
    "DuplicateKeyError",
    "ElectionNoLeaderError",
    "ElectionNotLeaderError",
    "EmptyKeyError",
    "FutureRevisionError",
    "InvalidAuthMgmtError",
    "InvalidAuthTokenError",
    "InvalidClientAPIVersionError",
    "InvalidDowngradeTargetVersionError",
    "InvalidSortOptionError",
    "KeyNotFoundError",
    "LeaderChangedError",
    "LearnerNotReadyError",
    "LeaseExistError",
    "LeaseNotFoundError",
    "LeaseProvidedError",
    "LeaseTTLTooLargeError",
    "MemberBadURLsError",
    "MemberExistError",
    "MemberNotEnoughStartedError",
    "MemberNotFoundError",
    "MemberNotLearnerError",
    "NoInflightDowngradeError",
    "NoLeaderError",
    "NoSpaceError",
    "NotCapableError",
    "NotLeaderError",
    "NotSupportedForLearnerError",
    "PeerURLExistError",
    "PermissionDeniedError",
    "PermissionNotGivenError",
    "PermissionNotGrantedError",
    "RequestTooLargeError",
    "RoleAlreadyExistError",
    "RoleEmptyError",
    "RoleNotFoundError",
    "RoleNotGrantedError",
    "RootRoleNotExistError",
    "RootUserNotExistError",
    "ServerTimeoutError",
    "StoppedError",
    "TimeoutDueToConnectionLostError",
    "TimeoutDueToLeaderFailError",
    "TimeoutWaitAppliedIndexError",
    "TooManyLearnersError",
    "TooManyOpsError",
    "TooManyRequestsError",
    "UnhealthyError",
    "UserAlreadyExistError",
    "UserEmptyError",
    "UserNotFoundError",
    "ValueProvidedError",
    "WatchCanceledError",
    "WatchDuplicateIDError",
    "WatchEmptyRangeError",
    "WrongDowngradeVersionFormatError",
    "error_for_message",
    "server_error_classes",
]


# --- KVError ---


class EmptyKeyError(KVError):
    """``etcdserver: key is not provided``"""

    wire = _w.EMPTY_KEY


class KeyNotFoundError(KVError):
    """``etcdserver: key not found``"""

    wire = _w.KEY_NOT_FOUND


class ValueProvidedError(KVError):
    """``etcdserver: value is provided``"""

    wire = _w.VALUE_PROVIDED


class LeaseProvidedError(KVError):
    """``etcdserver: lease is provided``"""

    wire = _w.LEASE_PROVIDED


class TooManyOpsError(KVError):
    """``etcdserver: too many operations in txn request``"""

    wire = _w.TOO_MANY_OPS


class DuplicateKeyError(KVError):
    """``etcdserver: duplicate key given in txn request``"""

    wire = _w.DUPLICATE_KEY


class InvalidSortOptionError(KVError):
    """``etcdserver: invalid sort option``"""

    wire = _w.INVALID_SORT_OPTION


class RequestTooLargeError(KVError):
    """``etcdserver: request is too large``"""

    wire = _w.REQUEST_TOO_LARGE


class InvalidClientAPIVersionError(KVError):
    """``etcdserver: invalid client api version``"""

    wire = _w.INVALID_CLIENT_API_VERSION


# --- RevisionError ---


class CompactedError(RevisionError):
    """``etcdserver: mvcc: required revision has been compacted``"""

    wire = _w.COMPACTED


class FutureRevisionError(RevisionError):
    """``etcdserver: mvcc: required revision is a future revision``"""

    wire = _w.FUTURE_REV


# --- QuotaError ---


class NoSpaceError(QuotaError):
    """``etcdserver: mvcc: database space exceeded``"""

    wire = _w.NO_SPACE


class TooManyRequestsError(QuotaError):
    """``etcdserver: too many requests``"""

    wire = _w.TOO_MANY_REQUESTS


# --- LeaseError ---


class LeaseNotFoundError(LeaseError):
    """``etcdserver: requested lease not found``"""

    wire = _w.LEASE_NOT_FOUND


class LeaseExistError(LeaseError):
    """``etcdserver: lease already exists``"""

    wire = _w.LEASE_EXIST


class LeaseTTLTooLargeError(LeaseError):
    """``etcdserver: too large lease TTL``"""

    wire = _w.LEASE_TTL_TOO_LARGE


# --- WatchServerError ---


class WatchCanceledError(WatchServerError):
    """``etcdserver: watch canceled``"""

    wire = _w.WATCH_CANCELED


class WatchDuplicateIDError(WatchServerError):
    """``mvcc: duplicate watch ID provided on the WatchStream``"""

    wire = _w.WATCH_DUPLICATE_ID


class WatchEmptyRangeError(WatchServerError):
    """``mvcc: watcher range is empty``"""

    wire = _w.WATCH_EMPTY_RANGE


# --- MemberError ---


class MemberExistError(MemberError):
    """``etcdserver: member ID already exist``"""

    wire = _w.MEMBER_EXIST


class PeerURLExistError(MemberError):
    """``etcdserver: Peer URLs already exists``"""

    wire = _w.PEER_URL_EXIST


class MemberNotEnoughStartedError(MemberError):
    """``etcdserver: re-configuration failed due to not enough started members``"""

    wire = _w.MEMBER_NOT_ENOUGH_STARTED


class MemberBadURLsError(MemberError):
    """``etcdserver: given member URLs are invalid``"""

    wire = _w.MEMBER_BAD_URLS


class MemberNotFoundError(MemberError):
    """``etcdserver: member not found``"""

    wire = _w.MEMBER_NOT_FOUND


class MemberNotLearnerError(MemberError):
    """``etcdserver: can only promote a learner member``"""

    wire = _w.MEMBER_NOT_LEARNER


class LearnerNotReadyError(MemberError):
    """``etcdserver: can only promote a learner member which is in sync with leader``"""

    wire = _w.LEARNER_NOT_READY


class TooManyLearnersError(MemberError):
    """``etcdserver: too many learner members in cluster``"""

    wire = _w.TOO_MANY_LEARNERS


class ClusterIDMismatchError(MemberError):
    """``etcdserver: cluster ID mismatch``"""

    wire = _w.CLUSTER_ID_MISMATCH


class NotSupportedForLearnerError(MemberError):
    """``etcdserver: rpc not supported for learner``"""

    wire = _w.NOT_SUPPORTED_FOR_LEARNER


class BadLeaderTransfereeError(MemberError):
    """``etcdserver: bad leader transferee``"""

    wire = _w.BAD_LEADER_TRANSFEREE


# --- AuthError ---


class RootUserNotExistError(AuthError):
    """``etcdserver: root user does not exist``"""

    wire = _w.ROOT_USER_NOT_EXIST


class RootRoleNotExistError(AuthError):
    """``etcdserver: root user does not have root role``"""

    wire = _w.ROOT_ROLE_NOT_EXIST


class UserAlreadyExistError(AuthError):
    """``etcdserver: user name already exists``"""

    wire = _w.USER_ALREADY_EXIST


class UserEmptyError(AuthError):
    """``etcdserver: user name is empty``"""

    wire = _w.USER_EMPTY


class UserNotFoundError(AuthError):
    """``etcdserver: user name not found``"""

    wire = _w.USER_NOT_FOUND


class RoleAlreadyExistError(AuthError):
    """``etcdserver: role name already exists``"""

    wire = _w.ROLE_ALREADY_EXIST


class RoleNotFoundError(AuthError):
    """``etcdserver: role name not found``"""

    wire = _w.ROLE_NOT_FOUND


class RoleEmptyError(AuthError):
    """``etcdserver: role name is empty``"""

    wire = _w.ROLE_EMPTY


class AuthFailedError(AuthError):
    """``etcdserver: authentication failed, invalid user ID or password``"""

    wire = _w.AUTH_FAILED


class PermissionNotGivenError(AuthError):
    """``etcdserver: permission not given``"""

    wire = _w.PERMISSION_NOT_GIVEN


class PermissionDeniedError(AuthError):
    """``etcdserver: permission denied``"""

    wire = _w.PERMISSION_DENIED


class RoleNotGrantedError(AuthError):
    """``etcdserver: role is not granted to the user``"""

    wire = _w.ROLE_NOT_GRANTED


class PermissionNotGrantedError(AuthError):
    """``etcdserver: permission is not granted to the role``"""

    wire = _w.PERMISSION_NOT_GRANTED


class AuthNotEnabledError(AuthError):
    """``etcdserver: authentication is not enabled``"""

    wire = _w.AUTH_NOT_ENABLED


class InvalidAuthTokenError(AuthError):
    """``etcdserver: invalid auth token``"""

    wire = _w.INVALID_AUTH_TOKEN


class InvalidAuthMgmtError(AuthError):
    """``etcdserver: invalid auth management``"""

    wire = _w.INVALID_AUTH_MGMT


class AuthOldRevisionError(AuthError):
    """``etcdserver: revision of auth store is old``"""

    wire = _w.AUTH_OLD_REVISION


# --- ServerUnavailableError ---


class NoLeaderError(ServerUnavailableError):
    """``etcdserver: no leader``"""

    wire = _w.NO_LEADER


class NotLeaderError(ServerUnavailableError):
    """``etcdserver: not leader``"""

    wire = _w.NOT_LEADER


class LeaderChangedError(ServerUnavailableError):
    """``etcdserver: leader changed``"""

    wire = _w.LEADER_CHANGED


class NotCapableError(ServerUnavailableError):
    """``etcdserver: not capable``"""

    wire = _w.NOT_CAPABLE


class StoppedError(ServerUnavailableError):
    """``etcdserver: server stopped``"""

    wire = _w.STOPPED


class ServerTimeoutError(ServerUnavailableError):
    """``etcdserver: request timed out``"""

    wire = _w.TIMEOUT


class TimeoutDueToLeaderFailError(ServerUnavailableError):
    """``etcdserver: request timed out, possibly due to previous leader failure``"""

    wire = _w.TIMEOUT_DUE_TO_LEADER_FAIL


class TimeoutDueToConnectionLostError(ServerUnavailableError):
    """``etcdserver: request timed out, possibly due to connection lost``"""

    wire = _w.TIMEOUT_DUE_TO_CONNECTION_LOST


class TimeoutWaitAppliedIndexError(ServerUnavailableError):
    """``etcdserver: request timed out, waiting for the applied index took too long``"""

    wire = _w.TIMEOUT_WAIT_APPLIED_INDEX


class UnhealthyError(ServerUnavailableError):
    """``etcdserver: unhealthy cluster``"""

    wire = _w.UNHEALTHY


# --- DowngradeError ---


class WrongDowngradeVersionFormatError(DowngradeError):
    """``etcdserver: wrong downgrade target version format``"""

    wire = _w.WRONG_DOWNGRADE_VERSION_FORMAT


class InvalidDowngradeTargetVersionError(DowngradeError):
    """``etcdserver: invalid downgrade target version``"""

    wire = _w.INVALID_DOWNGRADE_TARGET_VERSION


class ClusterVersionUnavailableError(DowngradeError):
    """``etcdserver: cluster version not found during downgrade``"""

    wire = _w.CLUSTER_VERSION_UNAVAILABLE


class DowngradeInProcessError(DowngradeError):
    """``etcdserver: cluster has a downgrade job in progress``"""

    wire = _w.DOWNGRADE_IN_PROCESS


class NoInflightDowngradeError(DowngradeError):
    """``etcdserver: no inflight downgrade job``"""

    wire = _w.NO_INFLIGHT_DOWNGRADE


# --- ElectionError ---


class ElectionNotLeaderError(ElectionError):
    """``election: not leader``"""

    wire = _w.ELECTION_NOT_LEADER


class ElectionNoLeaderError(ElectionError):
    """``election: no leader``"""

    wire = _w.ELECTION_NO_LEADER


def server_error_classes() -> dict[str, type[ServerError]]:
    """Map every catalogue message to its exception class (one class per message)."""
    out: dict[str, type[ServerError]] = {}
    stack: list[type[ServerError]] = [ServerError]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.wire is not None and cls.__dict__.get("wire") is not None:
            out[cls.wire.message] = cls
    return out


_BY_MESSAGE: dict[str, type[ServerError]] = server_error_classes()


def error_for_message(message: str, endpoint: str = "", code: str = "") -> ServerError:
    """Build the typed exception for a server status ``message`` (unknown text -> ``UnknownServerError``)."""
    # Watch cancel reasons may carry a Go gRPC status rendered as text:
    # "rpc error: code = Unauthenticated desc = etcdserver: invalid auth token".
    if message.startswith("rpc error: code = ") and " desc = " in message:
        message = message.split(" desc = ", 1)[1]
    cls = _BY_MESSAGE.get(message)
    if cls is None:
        return UnknownServerError(message, endpoint, code)
    return cls(message, endpoint)
