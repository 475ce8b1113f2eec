"""get/put/del/txn/compaction in every output format: etcdkit vs etcdctl on the same server."""

from __future__ import annotations

import pytest

from etcdkit.api.pb import rpc_pb2
from tests.e2e.ctl_harness import Result, Tools, assert_same, normalise_revisions

FORMATS = ["simple", "json", "fields", "protobuf", "table"]


@pytest.fixture(scope="module", autouse=True)
def seed(tools: Tools) -> None:
    for k, v in [("kv/a", "1"), ("kv/b", "two words"), ("kv/c", "tab\there"), ("kv/d", "ünïcödé"),
                 ("kv/e", "quote\"back\\slash<&>"), ("kv/f", ""), ("kw/x", "other"), ("kv/b", "2")]:
        tools.ctl("put", k, v)
    tools.ctl("put", "kv/bin", stdin=b"\x00\xff\xfe raw\n")


READ_CASES = [
    ["get", "kv/a"], ["get", "kv/", "--prefix"], ["get", "kv/a", "kv/d"], ["get", "kv/c", "--from-key"],
    ["get", "kv/", "--prefix", "--keys-only"], ["get", "kv/", "--prefix", "--limit=2"],
    ["get", "kv/", "--prefix", "--sort-by=VALUE", "--order=DESCEND"], ["get", "kv/", "--prefix", "--order=descend"],
    ["get", "kv/", "--prefix", "--sort-by=create"], ["get", "kv/", "--prefix", "--sort-by=modify", "--order=ASCEND"],
    ["get", "kv/", "--prefix", "--sort-by=version"], ["get", "kv/a", "--rev=2"], ["get", "kv/a", "--consistency=s"],
    ["get", "kv/", "--prefix", "--print-value-only"], ["get", "kv/bin"], ["get", "nokey"], ["get", "", "--prefix",
    "--limit=3", "--keys-only"], ["get", "kv/a", "--rev=100000"], ["get", "kv/d", "--hex"],
    ["get", "kv/", "--prefix", "--hex", "--print-value-only"], ["get", "", "--from-key", "--keys-only", "--limit=2"],
    ["get", "kv/a", "--print-value-only", "--keys-only"],
]


# every read case in simple format; a representative subset in the other formats (keeps CI time bounded)
_EVERY_FORMAT = {0, 1, 2, 4, 5, 11, 14, 18, 19}
READ_PAIRS = [(args, fmt) for i, args in enumerate(READ_CASES) for fmt in FORMATS
              if fmt == "simple" or i in _EVERY_FORMAT]


@pytest.mark.parametrize(("args", "fmt"), READ_PAIRS, ids=lambda a: " ".join(a) if isinstance(a, list) else a)
def test_reads(tools: Tools, args: list[str], fmt: str) -> None:
    assert_same(*tools.pair([*args, "-w", fmt]))


def _same_pb(a: Result, b: Result, cls: type) -> None:
    """Protobuf output of writes: parse both and compare with revision counters cleared."""
    assert (a.rc, a.stderr) == (b.rc, b.stderr)
    ma, mb = cls(), cls()
    ma.ParseFromString(a.stdout)
    mb.ParseFromString(b.stdout)
    for m in (ma, mb):
        m.header.revision = 0
        for f in ("prev_kv",):
            if hasattr(m, f) and m.HasField(f):
                getattr(m, f).mod_revision = getattr(m, f).create_revision = getattr(m, f).version = 0
        for kv in getattr(m, "prev_kvs", []):
            kv.mod_revision = kv.create_revision = kv.version = 0
    assert ma == mb


WRITE_CASES = [
    (["put", "w/k", "v"], rpc_pb2.PutResponse),
    (["put", "w/k", "new", "--prev-kv"], rpc_pb2.PutResponse),
    (["put", "w/k", "--ignore-value"], rpc_pb2.PutResponse),
    (["put", "w/k", "--ignore-lease", "x"], rpc_pb2.PutResponse),
    (["put", "--", "w/k", "-dash"], rpc_pb2.PutResponse),
    (["del", "w/k"], rpc_pb2.DeleteRangeResponse),
    (["del", "w/k", "--prev-kv"], rpc_pb2.DeleteRangeResponse),
    (["del", "w/", "--prefix", "--prev-kv"], rpc_pb2.DeleteRangeResponse),
    (["del", "w/k", "w/l"], rpc_pb2.DeleteRangeResponse),
    (["del", "w/k2", "--from-key"], rpc_pb2.DeleteRangeResponse),
    (["del", "nothing-here"], rpc_pb2.DeleteRangeResponse),
    (["put", "w/k", "v", "--lease=1234"], rpc_pb2.PutResponse),
]


WRITE_PAIRS = [(case, fmt) for i, case in enumerate(WRITE_CASES) for fmt in FORMATS
               if fmt in ("simple", "json") or i in (1, 6, 7)]


@pytest.mark.parametrize(("case", "fmt"), WRITE_PAIRS, ids=lambda c: " ".join(c[0]) if isinstance(c, tuple) else c)
def test_writes(tools: Tools, case: tuple[list[str], type], fmt: str) -> None:
    args, cls = case

    def setup() -> None:
        tools.ctl("del", "w/", "--prefix")
        tools.ctl("put", "w/k", "old")
        tools.ctl("put", "w/k2", "old2")
        tools.ctl("put", "w/l", "old3")

    a, b = tools.pair([*args, "-w", fmt], setup=setup)
    if fmt == "protobuf" and a.rc == 0 and "--" not in args:
        _same_pb(a, b, cls)
    else:
        assert_same(a, b, normalise_revisions)


def test_put_from_stdin(tools: Tools) -> None:
    a, b = tools.pair(["put", "stdin/k"], stdin=b"from\nstdin\x00bytes")
    assert_same(a, b)
    assert tools.ctl("get", "stdin/k", "--print-value-only").stdout == b"from\nstdin\x00bytes\n"


TXNS = [
    b'mod("kv/a") > "0"\n\nget kv/a\nget kv/ --prefix --keys-only\n\nput kv/never x\n\n',
    b'value("kv/a") = "nope"\n\nget kv/a\n\nget kv/b\ndel nokey\nget kv/c --print-value-only\n\n',
    b'ver("kv/b") = "2"\nc("kv/a") != "0"\nval("kv/d") < "z"\n\nget kv/d\n\n\n',
    b"\n\n\n",
    b'bad\n\n\n\n',
    b'mod("kv/a") > "0"\n',
    b'\nget\n\n\n',
    b'\nfoo bar\n\n\n',
    b'\nget kv/a --rev=x\n\n\n',
    b'mod("kv/a") > "x"\n\n\n\n',
    b'lease("kv/a") = "0"\n\n\n\n',
    b'\n"get" "kv/a"\n\n\n',
]


TXN_RUNS = [(script, fmt, interactive) for i, script in enumerate(TXNS)
            for fmt in ("simple", "json", "fields", "protobuf") for interactive in (False, True)
            if (fmt == "simple" and not interactive) or i < 3 or (i in (4, 8) and interactive)]


@pytest.mark.parametrize(("script", "fmt", "interactive"), TXN_RUNS,
                         ids=lambda v: v.decode()[:24] if isinstance(v, bytes) else str(v))
def test_txn_reads(tools: Tools, script: bytes, fmt: str, interactive: bool) -> None:
    args = ["txn", "-w", fmt] + (["-i"] if interactive else [])
    assert_same(*tools.pair(args, stdin=script))


def test_txn_writes(tools: Tools) -> None:
    script = b'value("t/k") = "a"\n\nput t/k b --prev-kv\ndel t/x\n\nput t/k c\n\n'

    def setup() -> None:
        tools.ctl("put", "t/k", "a")

    for fmt in ("simple", "json", "fields"):
        a, b = tools.pair(["txn", "-w", fmt], stdin=script, setup=setup)
        assert_same(a, b, normalise_revisions)


def test_compaction(tools: Tools) -> None:
    tools.ctl("put", "compact/k", "1")
    rev = int(tools.ctl("get", "compact/k", "-w", "fields").stdout.split(b'"Revision" : ')[1].split(b"\n")[0])
    a = tools.run("etcdctl", ["compaction", str(rev - 6)])
    b = tools.run("etcdkit", ["compaction", str(rev - 5)])
    assert (a.stdout, a.stderr, a.rc) == (f"compacted revision {rev - 6}\n".encode(), b"", 0)
    assert (b.stdout, b.stderr, b.rc) == (f"compacted revision {rev - 5}\n".encode(), b"", 0)
    a = tools.run("etcdctl", ["compaction", "--physical", str(rev - 4)])
    b = tools.run("etcdkit", ["compaction", "--physical", str(rev - 3)])
    assert (a.rc, b.rc) == (0, 0) and b.stdout == f"compacted revision {rev - 3}\n".encode()
    assert_same(*tools.pair(["compaction", str(rev - 3)]))  # already compacted, for both
    assert_same(*tools.pair(["get", "compact/k", f"--rev={rev - 6}"]))
    assert_same(*tools.pair(["compaction", str(rev + 1000)]))
