"""alarm list/disarm and defrag as etcdctl 3.4 (defrag shows a progress line on a TTY)."""

from __future__ import annotations

import sys

from etcdkit.ctl._context import Context
from etcdkit.ctl._exit import EXIT_ERROR, CtlError

__all__ = ["alarm_disarm", "alarm_list", "defrag"]


def alarm_list(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2

    resp = ctx.conn().unary("Maintenance", "Alarm", rpc_pb2.AlarmRequest())
    ctx.print("alarm", resp)
    return 0


def alarm_disarm(ctx: Context) -> int:
    """clientv3's AlarmDisarm with no member: list the alarms, disarm each, print the merged (header-less) result."""
    from etcdkit.api.pb import rpc_pb2

    conn = ctx.conn()
    listed = conn.unary("Maintenance", "Alarm", rpc_pb2.AlarmRequest())
    merged = rpc_pb2.AlarmResponse()
    for a in listed.alarms:
        resp = conn.unary("Maintenance", "Alarm",
                          rpc_pb2.AlarmRequest(action=rpc_pb2.AlarmRequest.DEACTIVATE, memberID=a.memberID,
                                               alarm=a.alarm))
        merged.alarms.extend(resp.alarms)
    if ctx.display.format == "fields" and not merged.HasField("header"):
        ctx.print("alarm", rpc_pb2.AlarmResponse(header=rpc_pb2.ResponseHeader(), alarms=merged.alarms))
        return 0
    ctx.print("alarm", merged)
    return 0


def defrag(ctx: Context) -> int:
    from etcdkit.api.pb import rpc_pb2
    from etcdkit.ctl._conn import RpcFailure
    from etcdkit.ctl.commands.endpoint import endpoints

    if ctx.values["data-dir"]:
        raise CtlError(EXIT_ERROR, "offline defragmentation (--data-dir) is not supported by etcdkit")
    eps = endpoints(ctx)
    failures = 0
    tty = sys.stdout.isatty() and sys.stderr.isatty()
    for i, ep in enumerate(eps):
        if tty:
            ctx.err(f"\r[{i}/{len(eps)}] defragmenting {ep} ...")
        conn = ctx.conn(ep)
        try:
            conn.unary("Maintenance", "Defragment", rpc_pb2.DefragmentRequest())
        except RpcFailure as exc:
            if tty:
                ctx.err("\r\x1b[K")
            ctx.err(f"Failed to defragment etcd member[{ep}] ({exc.text})\n")
            failures += 1
            continue
        finally:
            conn.close()
        if tty:
            ctx.err("\r\x1b[K")
        ctx.out(f"Finished defragmenting etcd member[{ep}]\n")
    return EXIT_ERROR if failures else 0
