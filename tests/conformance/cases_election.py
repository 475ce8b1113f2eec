"""Conformance: the Election service (v3electionpb) — campaign, proclaim,
leader, observe, resign, leadership passing on resign and on lease loss, and
bad input."""

from __future__ import annotations

from typing import Any

import grpc

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import v3election_pb2 as el

from .cases_lease_support import grant, lease_id, revoke_all, wait_keys
from .harness import Conn, case


def _next(stream: Any) -> Any:
    try:
        return next(stream)
    except grpc.RpcError as err:
        return err


@case
def case_election_campaign_proclaim_resign(c: Conn) -> None:
    a, b = grant(c, 0, 60), grant(c, 1, 60)
    name = c.k("elect")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "no leader yet")
    won = c.call(c.election.Campaign, el.CampaignRequest(name=name, lease=a, value=b"alpha"), "a campaigns")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "a leads")
    c.call(c.election.Proclaim, el.ProclaimRequest(leader=won.leader, value=b"alpha-2"), "a proclaims")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "new value")
    c.call(c.election.Campaign, el.CampaignRequest(name=name, lease=a, value=b"alpha-3"), "a campaigns again")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "same leadership, value proclaimed")
    waiting = c.election.Campaign.future(el.CampaignRequest(name=name, lease=b, value=b"beta"), timeout=c.timeout)
    wait_keys(c, name + b"/", 2)
    c.record(waiting.done(), "b waits")
    c.call(c.election.Resign, el.ResignRequest(leader=won.leader), "a resigns")
    c.record(c.normalise(waiting.result()), "b wins")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "b leads")
    c.call(c.election.Proclaim, el.ProclaimRequest(leader=won.leader, value=b"x"), "a's stale proclaim")
    c.call(c.election.Resign, el.ResignRequest(leader=won.leader), "a's stale resign is a no-op")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "b still leads")
    revoke_all(c, [a, b])
    c.call(c.election.Leader, el.LeaderRequest(name=name), "no leader after the leases end")


@case
def case_election_observe(c: Conn) -> None:
    a, b = grant(c, 0, 60), grant(c, 1, 60)
    name = c.k("observed")
    stream = c.election.Observe(el.LeaderRequest(name=name), timeout=c.timeout)
    try:
        won = c.call(c.election.Campaign, el.CampaignRequest(name=name, lease=a, value=b"one"), "a campaigns")
        c.record(c.normalise(_next(stream)), "observe: first leader")
        c.call(c.election.Proclaim, el.ProclaimRequest(leader=won.leader, value=b"two"), "a proclaims")
        c.record(c.normalise(_next(stream)), "observe: new value")
        c.call(c.election.Proclaim, el.ProclaimRequest(leader=won.leader, value=b"three"), "a proclaims twice")
        c.call(c.election.Proclaim, el.ProclaimRequest(leader=won.leader, value=b"four"), "in a row")
        c.record(c.normalise([_next(stream), _next(stream)]), "observe: both values, in order")
        waiting = c.election.Campaign.future(el.CampaignRequest(name=name, lease=b, value=b"bee"), timeout=c.timeout)
        wait_keys(c, name + b"/", 2)
        c.call(c.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=a), "a's lease ends")
        c.record(c.normalise(waiting.result()), "b wins")
        c.record(c.normalise(_next(stream)), "observe: b")
    finally:
        stream.cancel()
    revoke_all(c, [b])


@case
def case_election_observe_existing_leader(c: Conn) -> None:
    a = grant(c, 0, 60)
    name = c.k("observed")
    c.call(c.election.Campaign, el.CampaignRequest(name=name, lease=a, value=b"v"), "a campaigns")
    c.call(c.kv.Put, pb.PutRequest(key=c.k("unrelated"), value=b""), "an unrelated write")
    stream = c.election.Observe(el.LeaderRequest(name=name), timeout=c.timeout)
    try:
        c.record(c.normalise(_next(stream)), "observe: current leader, header at the current revision")
    finally:
        stream.cancel()
    revoke_all(c, [a])


@case
def case_election_bad_input(c: Conn) -> None:
    name = c.k("bad")
    c.call(c.election.Campaign, el.CampaignRequest(name=name, lease=lease_id(c, 3), value=b"v"), "unknown lease")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "no leader")
    c.call(c.election.Proclaim, el.ProclaimRequest(value=b"v"), "proclaim without leader key")
    c.call(c.election.Resign, el.ResignRequest(), "resign without leader key")
    ghost = el.LeaderKey(name=name, key=name + b"/1", rev=1, lease=1)
    c.call(c.election.Proclaim, el.ProclaimRequest(leader=ghost, value=b"v"), "proclaim with a stale key")
    c.call(c.election.Resign, el.ResignRequest(leader=ghost), "resign with a stale key")
    a = grant(c, 0, 60)
    won = c.call(c.election.Campaign, el.CampaignRequest(name=name, lease=a, value=b"v"), "a campaigns")
    stale = el.LeaderKey()
    stale.CopyFrom(won.leader)
    stale.rev -= 1
    c.call(c.election.Resign, el.ResignRequest(leader=stale), "resign with a wrong revision: no-op")
    c.call(c.election.Leader, el.LeaderRequest(name=name), "a still leads")
    revoke_all(c, [a])
