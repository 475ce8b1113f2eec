"""member, endpoint, alarm, defrag, move-leader, snapshot save: etcdkit vs etcdctl on the same server."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from etcdkit.testing import EtcdkitProcess, ServerProcess, free_port
from tests.e2e.ctl_harness import Result, Tools, assert_same, normalise_took

FORMATS = ["simple", "json", "fields", "protobuf", "table"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("args", [["member", "list"], ["endpoint", "status"], ["endpoint", "hashkv"],
                                  ["endpoint", "hashkv", "--rev=1"], ["endpoint", "status", "--cluster"],
                                  ["endpoint", "hashkv", "--cluster"], ["alarm", "list"], ["member", "list", "--hex"]],
                         ids=" ".join)
def test_cluster_reads(tools: Tools, args: list[str], fmt: str) -> None:
    assert_same(*tools.pair([*args, "-w", fmt]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_endpoint_health(tools: Tools, fmt: str) -> None:
    def norm(x: bytes) -> bytes:  # the measured time also changes table column widths
        return re.sub(rb"-+", b"-", re.sub(rb" +", b" ", normalise_took(x)))

    assert_same(*tools.pair(["endpoint", "health", "-w", fmt]), norm)
    assert_same(*tools.pair(["endpoint", "health", "--cluster", "-w", fmt]), norm)


def test_endpoint_unreachable(tools: Tools) -> None:
    args = ["--endpoints", f"{tools.endpoint},127.0.0.1:1", "--command-timeout=1s", "endpoint"]
    assert_same(*tools.pair([*args, "health"]), normalise_took)
    assert_same(*tools.pair([*args, "status"]))
    assert_same(*tools.pair([*args, "hashkv"]))


def test_alarm_disarm(tools: Tools) -> None:
    for fmt in ("simple", "json", "protobuf"):
        assert_same(*tools.pair(["alarm", "disarm", "-w", fmt]))


def test_defrag(tools: Tools) -> None:
    assert_same(*tools.pair(["defrag"]))
    assert_same(*tools.pair(["defrag", "--cluster"]))


def test_move_leader_errors(tools: Tools) -> None:
    assert_same(*tools.pair(["move-leader", "1234"]))
    member = tools.ctl("member", "list").stdout.split(b",")[0].decode()
    assert_same(*tools.pair(["move-leader", member]))


def _scrub_id(r: Result, member_id: str) -> Result:
    # "Member %16x added": an id with fewer than 16 hex digits is space-padded; the padding goes with it
    padded = re.compile(rb" +" + member_id.encode() + rb"\b")
    pat = re.compile(rb"\b" + member_id.encode() + rb"\b|\b" + str(int(member_id, 16)).encode() + rb"\b")

    def scrub(x: bytes) -> bytes:
        return pat.sub(b"ID", padded.sub(b" ID", x))

    return Result(scrub(r.stdout), scrub(r.stderr), r.rc)


def _learner_id(tools: Tools, name: str) -> str:
    for line in tools.ctl("member", "list").stdout.splitlines():
        fields = line.split(b", ")
        if fields[4:5] == [b""] and fields[-1] == b"true":
            return fields[0].decode()
    raise AssertionError(f"learner {name} not found")


@pytest.mark.parametrize("fmt", ["simple", "json", "fields"])
def test_member_lifecycle(server: ServerProcess, tools: Tools, fmt: str) -> None:
    """Each tool adds the same learner, updates, fails to promote it and removes it; only its ID differs.

    etcdkit is a single member until Raft clustering lands: every membership change answers
    ``etcdserver: not capable`` (or member not found), and both tools must report it identically.
    """
    if isinstance(server, EtcdkitProcess):
        me = tools.ctl("member", "list").stdout.split(b",")[0].decode()
        for args in (
            ["member", "add", "learner1", "--learner", "--peer-urls=http://127.0.0.1:1"],
            ["member", "update", me, "--peer-urls=http://127.0.0.1:2"],
            ["member", "promote", me],
            ["member", "remove", "1234"],
        ):
            ours, theirs = tools.pair([*args, "-w", fmt])
            assert_same(ours, theirs)
            assert ours.rc != 0, ours
        return
    results: list[list[Result]] = []
    for tool in ("etcdctl", "etcdkit"):
        # fresh peer URLs per tool: etcd 3.4 may answer "member not found" when a just-removed URL is re-added
        peer, peer2 = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
        out = [tools.run(tool, ["member", "add", "learner1", "--learner", f"--peer-urls={peer}", "-w", fmt])]
        assert out[0].rc in (0, 4), out[0]
        mid = _learner_id(tools, "learner1")
        out.append(tools.run(tool, ["member", "list", "-w", fmt]))
        out.append(tools.run(tool, ["member", "update", mid, f"--peer-urls={peer2}", "-w", fmt]))
        out.append(tools.run(tool, ["member", "promote", mid, "-w", fmt]))
        out.append(tools.run(tool, ["member", "remove", mid, "-w", fmt]))
        out.append(tools.run(tool, ["member", "remove", mid, "-w", fmt]))
        out = [Result(r.stdout.replace(peer.encode(), b"PEER").replace(peer2.encode(), b"PEER2"), r.stderr, r.rc)
               for r in out]
        results.append([_scrub_id(r, mid) for r in out])
    rev = re.compile(rb'"revision":\d+|"Revision" : \d+')
    # the server lists members from a map: their order (and so ETCD_INITIAL_CLUSTER's) varies per call
    cluster = re.compile(rb'ETCD_INITIAL_CLUSTER="([^"]*)"')

    def norm(x: bytes) -> bytes:
        if fmt == "json" and x.startswith(b'{"header"'):
            doc = json.loads(rev.sub(b'"revision":0', x).replace(b'"ID":ID', b'"ID":0'))
            doc.get("members", []).sort(key=json.dumps)
            return json.dumps(doc).encode()
        x = cluster.sub(lambda m: b'ETCD_INITIAL_CLUSTER="' + b",".join(sorted(m.group(1).split(b","))) + b'"', x)
        # simple and fields list the members one per line / block in map order: compare as sets of lines
        x = rev.sub(b"REV", x)
        return b"\n".join(sorted(x.split(b"\n"))) if fmt in ("simple", "fields") else x

    for a, b in zip(*results, strict=True):
        assert_same(a, b, norm)


def test_member_add_bad_urls(tools: Tools) -> None:
    assert_same(*tools.pair(["member", "add", "x", "--peer-urls=notaurl"]))
    assert_same(*tools.pair(["member", "promote", "1234"]))
    assert_same(*tools.pair(["member", "update", "1234", "--peer-urls=http://127.0.0.1:1"]))


def test_snapshot_save(tools: Tools, tmp_path: Path) -> None:
    a = tools.run("etcdctl", ["snapshot", "save", str(tmp_path / "a.db")])
    b = tools.run("etcdkit", ["snapshot", "save", str(tmp_path / "a.db")])
    assert_same(a, b)
    assert (tmp_path / "a.db").stat().st_size > 0
    assert not (tmp_path / "a.db.part").exists()
    assert_same(*tools.pair(["snapshot", "save", str(tmp_path / "missing" / "x.db")]))
    assert_same(*tools.pair(["--endpoints", f"{tools.endpoint},{tools.endpoint}", "snapshot", "save",
                             str(tmp_path / "b.db")]))


def test_snapshot_status(tools: Tools, tmp_path: Path) -> None:
    pytest.importorskip("etcdkit.server.storage.etcd_snapshot")
    db = tmp_path / "s.db"
    tools.ctl("snapshot", "save", str(db))
    for fmt in FORMATS:
        assert_same(*tools.pair(["snapshot", "status", str(db), "-w", fmt]))
    assert_same(*tools.pair(["snapshot", "status"]))
    assert_same(*tools.pair(["snapshot", "status", str(tmp_path / "nope.db")]))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a bolt file" * 100)
    assert_same(*tools.pair(["snapshot", "status", str(junk)]))


def test_snapshot_restore(tools: Tools, tmp_path: Path) -> None:
    pytest.importorskip("etcdkit.server.snapshot")
    db = tmp_path / "s.db"
    tools.ctl("snapshot", "save", str(db))
    assert_same(*tools.pair(["snapshot", "restore"]))
    existing = tmp_path / "existing"
    existing.mkdir()
    assert_same(*tools.pair(["snapshot", "restore", str(db), "--data-dir", str(existing)]))
    r = tools.run("etcdkit", ["snapshot", "restore", str(db), "--data-dir", str(tmp_path / "restored")])
    assert r.rc == 0, r
    assert b'"msg":"restored snapshot"' in r.stderr
    assert (tmp_path / "restored").is_dir()
