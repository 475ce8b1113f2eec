"""member list/add/remove/update/promote and move-leader as etcdctl 3.4."""

from __future__ import annotations

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_BAD_ARGS, EXIT_ERROR, CtlError
from etcdkit.ctl.commands._args import go_parse_int
from etcdkit.ctl.printers._gofmt import go_quote

__all__ = ["add", "list_members", "move_leader", "promote", "remove", "update"]


def _check_urls(urls: list[str]) -> None:
    """etcd's ``types.NewURLs`` validation, done client-side by etcdctl (exit 1)."""
    from urllib.parse import urlsplit

    for u in urls:
        parts = urlsplit(u.strip())
        if parts.scheme not in ("http", "https", "unix", "unixs"):
            raise CtlError(EXIT_ERROR, f"URL scheme must be http, https, unix, or unixs: {u}")
        _host, sep, port = parts.netloc.rpartition(":")
        if not sep or (not port.isdigit() and port != ""):
            raise CtlError(EXIT_ERROR, f'URL address does not have the form "host:port": {u}')
        if parts.path:
            raise CtlError(EXIT_ERROR, f"URL must not contain a path: {u}")


def _member_id(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "member ID is not provided")
    try:
        return go_parse_int(ctx.args[0], 16, unsigned=True)
    except ValueError as exc:
        raise CtlError(EXIT_BAD_ARGS, f"bad member ID arg ({exc}), expecting ID in Hex") from None


def list_members(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    resp = ctx.conn().unary("Cluster", "MemberList", rpc_pb2.MemberListRequest())
    ctx.print("member_list", resp)
    return 0


def add(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "member name not provided")
    name = ctx.args[0]
    peer_urls = ctx.values["peer-urls"]
    if not peer_urls:
        raise CtlError(EXIT_BAD_ARGS, "member peer urls not provided")
    urls = peer_urls.split(",")
    _check_urls(urls)
    req = rpc_pb2.MemberAddRequest(peerURLs=urls, isLearner=ctx.values["learner"])
    resp = ctx.conn().unary("Cluster", "MemberAdd", req)
    ctx.print("member_add", resp)
    if ctx.display.format == "simple":
        conf = []
        for m in resp.members:
            for u in m.peerURLs:
                conf.append(f"{name if m.ID == resp.member.ID else m.name}={u}")
        ctx.out(
            f"\nETCD_NAME={go_quote(name)}\nETCD_INITIAL_CLUSTER={go_quote(','.join(conf))}\n"
            f"ETCD_INITIAL_ADVERTISE_PEER_URLS={go_quote(peer_urls)}\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n"
        )
    return 0


def remove(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    mid = _member_id(ctx)
    resp = ctx.conn().unary("Cluster", "MemberRemove", rpc_pb2.MemberRemoveRequest(ID=mid))
    ctx.print("member_remove", mid, resp)
    return 0


def update(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    mid = _member_id(ctx)
    if not ctx.values["peer-urls"]:
        raise CtlError(EXIT_BAD_ARGS, "member peer urls not provided")
    _check_urls(ctx.values["peer-urls"].split(","))
    req = rpc_pb2.MemberUpdateRequest(ID=mid, peerURLs=ctx.values["peer-urls"].split(","))
    resp = ctx.conn().unary("Cluster", "MemberUpdate", req)
    ctx.print("member_update", mid, resp)
    return 0


def promote(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    mid = _member_id(ctx)
    resp = ctx.conn().unary("Cluster", "MemberPromote", rpc_pb2.MemberPromoteRequest(ID=mid))
    ctx.print("member_promote", mid, resp)
    return 0


def move_leader(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    if len(ctx.args) != 1:
        raise CtlError(EXIT_BAD_ARGS, "move-leader command needs 1 argument")
    try:
        target = go_parse_int(ctx.args[0], 16, unsigned=True)
    except ValueError as exc:
        raise CtlError(EXIT_BAD_ARGS, str(exc)) from None
    settings = ctx.settings()
    leader_conn = None
    leader_id = 0
    for ep in settings.endpoints:
        conn = ctx.conn(ep)
        st = conn.unary("Maintenance", "Status", rpc_pb2.StatusRequest())
        if st.header.member_id == st.leader:
            leader_conn, leader_id = conn, st.leader
            break
        conn.close()
    if leader_conn is None:
        raise CtlError(EXIT_BAD_ARGS, f"no leader endpoint given at [{' '.join(settings.endpoints)}]")
    try:
        resp = leader_conn.unary("Maintenance", "MoveLeader", rpc_pb2.MoveLeaderRequest(targetID=target))
    except Exception as exc:
        raise CtlError(EXIT_ERROR, getattr(exc, "text", str(exc))) from None
    finally:
        leader_conn.close()
    ctx.print("move_leader", leader_id, target, resp)
    return 0
