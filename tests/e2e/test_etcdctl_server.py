"""Debian's ``etcdctl`` (3.4.23, ``ETCDCTL_API=3``) against real etcd and against etcdkit.

Every scenario runs the same etcdctl commands against each target and records
``(command, exit code, normalised stdout, "Error:" lines of stderr)``; the
transcripts must be identical. Normalisation removes only what legitimately
differs between two servers: endpoints and ports, member/cluster ids, raft
terms and indexes, database sizes, the server version, hash values, timings,
and absolute revisions (made relative to the scenario's start, so scenarios
can share one server per target).

Targets come from ``ETCDKIT_E2E_TARGETS`` (default ``etcd,etcdkit``); with a
single target the scenarios still run (they check that etcdctl succeeds where
expected) but nothing is compared.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from etcdkit.api.pb import rpc_pb2 as pb
from etcdkit.api.pb import rpc_pb2_grpc as pbg
from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess

TARGETS = tuple(t for t in os.environ.get("ETCDKIT_E2E_TARGETS", "etcd,etcdkit").split(",") if t)
ETCDCTL = os.environ.get("ETCDKIT_ETCDCTL_BIN") or shutil.which("etcdctl")
REVISION_KEYS = frozenset({"revision", "create_revision", "mod_revision", "compact_revision"})
HEADER_DROP = frozenset({"cluster_id", "member_id", "raft_term"})

pytestmark = pytest.mark.skipif(ETCDCTL is None, reason="etcdctl is not installed (apt-get install -y etcd-client)")


def _start(target: str, extra_args: tuple[str, ...] = ()) -> ServerProcess:
    if target == "etcd":
        if EtcdProcess.binary() is None:
            pytest.skip("real etcd is not installed (apt-get install -y etcd-server)")
        return EtcdProcess(extra_args=list(extra_args)).start()
    if target == "etcdkit":
        return EtcdkitProcess(extra_args=list(extra_args)).start()
    raise ValueError(f"unknown e2e target {target!r}")


@dataclass
class Ctl:
    """Runs etcdctl against one server and records normalised outcomes."""

    server: ServerProcess
    base: int = 0
    transcript: list[Any] = field(default_factory=list)
    member_id: int = 0
    cluster_id: int = 0
    aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with grpc.insecure_channel(self.server.endpoint) as ch:
            st = pbg.MaintenanceStub(ch).Status(pb.StatusRequest(), timeout=10)
            rng = pbg.KVStub(ch).Range(pb.RangeRequest(key=b"\x00", count_only=True), timeout=10)
        self.member_id = int(st.header.member_id)
        self.cluster_id = int(st.header.cluster_id)
        self.base = int(rng.header.revision)

    def rev(self, relative: int) -> int:
        """The absolute revision ``relative`` revisions after the scenario start."""
        return self.base + relative

    def run(
        self, *args: str, stdin: str | None = None, out: Callable[[str], Any] | None = None, label: str = ""
    ) -> str:
        """Run ``etcdctl args``; record (label or args, exit code, stdout, error lines); return raw stdout.

        ``out`` turns the raw stdout into what is recorded (default: ``self.text``);
        ``label`` replaces the command line in the transcript when it holds absolute
        revisions.
        """
        assert ETCDCTL is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
        env["ETCDCTL_API"] = "3"
        cmd = [ETCDCTL, f"--endpoints={self.server.endpoint}", "--dial-timeout=5s", "--command-timeout=10s", *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False)
        shown = (out or self.text)(proc.stdout)
        # stderr minus the client library's JSON log lines (timestamps, retries).
        errors = [self.text(line) for line in proc.stderr.splitlines() if not line.startswith("{")]
        self.transcript.append((label or " ".join(args), proc.returncode, shown, errors))
        return proc.stdout

    # --- normalisation ------------------------------------------------------
    def text(self, s: str) -> str:
        s = s.replace(self.server.endpoint, "<endpoint>")
        s = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", s)
        s = re.sub(r"took = \S+", "took = <t>", s)
        for ident, name in ((self.member_id, "<member>"), (self.cluster_id, "<cluster>")):
            s = s.replace(f"{ident:x}", name).replace(str(ident), name)
        for raw, name in self.aliases.items():
            s = s.replace(raw, name)
        return s

    def alias(self, raw: str, name: str) -> None:
        """Show ``raw`` (e.g. a server-chosen lease id, hex or decimal) as ``name`` from now on."""
        self.aliases[raw] = name
        if re.fullmatch(r"[0-9a-f]+", raw):
            self.aliases[str(int(raw, 16))] = name

    def fields(self, s: str) -> str:
        """``-w fields`` output with revisions made relative to the scenario start."""

        def rel(m: re.Match[str]) -> str:
            n = int(m.group(2))
            return f"{m.group(1)}{n - self.base if n > 0 else n}"

        return re.sub(r'("(?:Prev)?(?:Create|Mod)?Revision" : )(-?\d+)', rel, self.text(s))

    def json(self, s: str) -> Any:
        """Parse etcdctl ``-w json`` output (after any interactive prompts) and normalise it."""
        lines = s.splitlines()
        start = next((i for i, line in enumerate(lines) if line.startswith(("{", "["))), len(lines))
        prompts = [self.text(line) for line in lines[:start]]
        return [prompts, self._norm(json.loads("\n".join(lines[start:]) or "null"))]

    def _norm(self, v: Any) -> Any:
        if isinstance(v, dict):
            out: dict[str, Any] = {}
            for k, x in v.items():
                if k == "header" and isinstance(x, dict):
                    x = {hk: hv for hk, hv in x.items() if hk not in HEADER_DROP}
                if k in REVISION_KEYS and isinstance(x, int):
                    out[k] = x - self.base if x > 0 else x
                elif k in ("key", "value") and isinstance(x, str):
                    out[k] = base64.b64decode(x).decode("latin-1")
                else:
                    out[k] = self._norm(x)
            return out
        if isinstance(v, list):
            return [self._norm(x) for x in v]
        return v


def _fields(ctl: Ctl, names: tuple[str, ...]) -> Callable[[str], Any]:
    """Normalise comma-separated output: keep the columns not named ``_...`` and the column count."""

    def norm(s: str) -> Any:
        rows = []
        for line in ctl.text(s).splitlines():
            cells = [c.strip() for c in line.split(",")]
            rows.append(
                {n: c for n, c in zip(names, cells, strict=False) if not n.startswith("_")} | {"ncells": len(cells)}
            )
        return rows

    return norm


Scenario = Callable[[Ctl], None]
SCENARIOS: dict[str, tuple[Scenario, tuple[str, ...] | None]] = {}


def scenario(extra_args: tuple[str, ...] | None = None) -> Callable[[Scenario], Scenario]:
    """Register a scenario; ``extra_args`` (even empty) gives it fresh servers of its own."""

    def register(fn: Scenario) -> Scenario:
        SCENARIOS[fn.__name__.removeprefix("scenario_")] = (fn, extra_args)
        return fn

    return register


# --- scenarios ------------------------------------------------------------------

P = "/e2e/"


@scenario()
def scenario_put_get(ctl: Ctl) -> None:
    k = P + "pg/"
    ctl.run("put", k + "a", "1")
    ctl.run("put", k + "b", "2")
    ctl.run("put", k + "c", "3")
    ctl.run("put", k + "a", "4")
    ctl.run("put", "--prev-kv", k + "b", "5")
    ctl.run("get", k + "a")
    ctl.run("get", k + "missing")
    ctl.run("get", "--prefix", k)
    ctl.run("get", k + "a", k + "c")
    ctl.run("get", "--prefix", "--keys-only", k)
    ctl.run("get", "--prefix", "--print-value-only", k)
    ctl.run("get", "--prefix", "--limit=2", k)
    ctl.run("get", "--consistency=s", k + "a")
    ctl.run("get", "--rev", str(ctl.rev(1)), k + "a", label="get --rev <r1> a")
    ctl.run("get", "--rev", str(ctl.rev(1)), "--prefix", k, label="get --rev <r1> --prefix")
    ctl.run("get", "--rev", str(ctl.rev(100)), k + "a", label="get --rev <r100> a")


@scenario()
def scenario_get_sort(ctl: Ctl) -> None:
    k = P + "sort/"
    for key, value in (("b", "z"), ("c", "x"), ("a", "y"), ("b", "w")):
        ctl.run("put", k + key, value)
    for target in ("KEY", "CREATE", "MODIFY", "VALUE", "VERSION"):
        for order in ("ASCEND", "DESCEND"):
            ctl.run("get", "--prefix", "--keys-only", f"--sort-by={target}", f"--order={order}", k)
    ctl.run("get", "--prefix", "--keys-only", "--sort-by=VALUE", k)
    ctl.run("get", "--prefix", "--keys-only", "--order=DESCEND", "--limit=2", k)
    ctl.run("get", "--prefix", "--sort-by=BOGUS", k)


@scenario()
def scenario_get_from_key(ctl: Ctl) -> None:
    # "~" sorts after every other scenario's keys, so from-key sees only ours.
    k = "~e2e/fromkey/"
    for key in "abc":
        ctl.run("put", k + key, key)
    ctl.run("get", "--from-key", k + "b")
    ctl.run("get", "--from-key", "--keys-only", "--limit=1", k + "a")
    ctl.run("del", "--from-key", "--prev-kv", k + "b")
    ctl.run("get", "--from-key", k + "a")


@scenario()
def scenario_get_json(ctl: Ctl) -> None:
    k = P + "json/"
    ctl.run("put", k + "a", "1")
    ctl.run("put", k + "b", "2")
    ctl.run("put", "-w", "json", k + "a", "3", out=ctl.json)
    ctl.run("get", "-w", "json", "--prefix", k, out=ctl.json)
    ctl.run("get", "-w", "json", "--prefix", "--limit=1", k, out=ctl.json)
    ctl.run("get", "-w", "json", k + "missing", out=ctl.json)
    ctl.run("del", "-w", "json", "--prev-kv", k + "b", out=ctl.json)
    ctl.run("get", "--count-only", "--prefix", k)  # not an etcdctl 3.4 flag: a usage error either way


@scenario()
def scenario_del(ctl: Ctl) -> None:
    k = P + "del/"
    for key in ("a", "b", "p/1", "p/2", "q"):
        ctl.run("put", k + key, "v" + key)
    ctl.run("del", k + "a")
    ctl.run("del", k + "a")
    ctl.run("del", "--prev-kv", k + "b")
    ctl.run("del", "--prefix", "--prev-kv", k + "p/")
    ctl.run("del", "--prefix", k + "p/")
    ctl.run("get", "--prefix", "--keys-only", k)


@scenario()
def scenario_txn_interactive(ctl: Ctl) -> None:
    k = P + "txn/"
    ctl.run("put", k + "a", "1")
    success = f'value("{k}a") = "1"\n\nput {k}b yes\nget {k}a\n\nput {k}c no\n\n'
    ctl.run("txn", "-i", stdin=success)
    failure = f'mod("{k}a") > "0"\nversion("{k}b") = "9"\n\nput {k}d yes\n\ndel {k}a\nget {k}b\n\n'
    ctl.run("txn", "-i", stdin=failure)
    ctl.run("txn", "-i", "-w", "json", stdin=f'create("{k}zz") = "0"\n\nput {k}e 1\n\n\n', out=ctl.json)
    ctl.run("txn", stdin=f'value("{k}b") = "yes"\n\nget --prefix {k}\n\n\n')
    ctl.run("txn", stdin=f"\n\nput {k}f 1\nput {k}f 2\n\n\n")
    ctl.run("get", "--prefix", k)


@scenario()
def scenario_compaction(ctl: Ctl) -> None:
    k = P + "compact/"
    ctl.run("put", k + "a", "1")
    ctl.run("put", k + "a", "2")
    ctl.run("put", k + "a", "3")
    rel = re.compile(r"\d+")

    def relative(s: str) -> str:
        return rel.sub(lambda m: str(int(m.group()) - ctl.base), s)

    ctl.run("compaction", str(ctl.rev(2)), out=relative, label="compaction <r2>")
    ctl.run("get", "--rev", str(ctl.rev(1)), k + "a", label="get --rev <r1> a")
    ctl.run("get", "--rev", str(ctl.rev(2)), k + "a", label="get --rev <r2> a")
    ctl.run("compaction", str(ctl.rev(2)), out=relative, label="compaction <r2> again")
    ctl.run("compaction", "--physical", str(ctl.rev(3)), out=relative, label="compaction --physical <r3>")
    ctl.run("compaction", str(ctl.rev(50)), out=relative, label="compaction <r50>")


@scenario()
def scenario_defrag(ctl: Ctl) -> None:
    ctl.run("put", P + "defrag/a", "1")
    ctl.run("defrag")
    ctl.run("get", P + "defrag/a")


@scenario()
def scenario_endpoint(ctl: Ctl) -> None:
    status = (
        "endpoint",
        "id",
        "_version",
        "_db_size",
        "is_leader",
        "is_learner",
        "_term",
        "_index",
        "_applied",
        "errors",
    )
    ctl.run("endpoint", "status", out=_fields(ctl, status))
    ctl.run("endpoint", "health")
    ctl.run("endpoint", "hashkv", out=_fields(ctl, ("endpoint", "_hash")))
    ctl.run("endpoint", "status", "-w", "json", out=lambda s: _json_shape(ctl, s))
    ctl.run("endpoint", "hashkv", "-w", "json", out=lambda s: _json_shape(ctl, s))


def _json_shape(ctl: Ctl, s: str) -> Any:
    """Keys and types of a JSON document (numbers that differ between servers become their type)."""

    def shape(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: shape(x) for k, x in sorted(v.items())}
        if isinstance(v, list):
            return [shape(x) for x in v]
        if isinstance(v, bool):
            return v
        if isinstance(v, str):
            shown = ctl.text(v)
            return shown if "<" in shown else "str"
        return type(v).__name__

    return shape(json.loads(s))


@scenario()
def scenario_member_list(ctl: Ctl) -> None:
    ctl.run("member", "list")
    ctl.run("member", "list", "-w", "json", out=lambda s: _json_shape(ctl, s))


@scenario()
def scenario_alarm_list_empty(ctl: Ctl) -> None:
    ctl.run("alarm", "list")
    ctl.run("alarm", "disarm")


@scenario(extra_args=("--quota-backend-bytes=1",))
def scenario_alarm_nospace(ctl: Ctl) -> None:
    ctl.run("alarm", "list")
    ctl.run("put", P + "quota/a", "1")
    ctl.run("alarm", "list")
    ctl.run(
        "endpoint",
        "status",
        out=_fields(ctl, ("endpoint", "_id", "_v", "_db", "leader", "learner", "_t", "_i", "_a", "errors")),
    )
    ctl.run("get", P + "quota/a")
    ctl.run("alarm", "disarm")
    ctl.run("alarm", "list")
    ctl.run("put", P + "quota/a", "1")


@scenario()
def scenario_put_flags_and_errors(ctl: Ctl) -> None:
    k = P + "flags/"
    ctl.run("put", k + "a", "1")
    ctl.run("put", "--ignore-value", k + "a")
    ctl.run("put", "--ignore-value", k + "missing")
    ctl.run("put", "--ignore-lease", k + "a", "2")
    ctl.run("put", "--ignore-lease", k + "missing", "2")
    ctl.run("put", "--ignore-value", k + "a", "3")
    ctl.run("put", "", "v")
    ctl.run("get", "")
    ctl.run("del", "")
    ctl.run("put", "--lease=1234abcd", k + "b", "1")
    ctl.run("get", "--prefix", k)


@scenario()
def scenario_get_fields(ctl: Ctl) -> None:
    k = P + "fields/"
    ctl.run("put", k + "a", "1")
    ctl.run("put", k + "a", "2")
    ctl.run("get", "-w", "fields", k + "a", out=ctl.fields)
    ctl.run("put", "-w", "fields", "--prev-kv", k + "a", "3", out=ctl.fields)
    ctl.run("del", "-w", "fields", k + "a", out=ctl.fields)


@scenario()
def scenario_lease(ctl: Ctl) -> None:
    k = P + "lease/"
    out = ctl.run("lease", "grant", "600")
    m = re.search(r"lease ([0-9a-f]+) granted", out)
    if m is not None:
        ctl.alias(m.group(1), "<lease>")
        ctl.transcript[-1] = ("lease grant 600", 0, ctl.text(out), [])
    lid = m.group(1) if m is not None else "0"
    ctl.run("lease", "list")
    ctl.run("put", f"--lease={lid}", k + "a", "1", label="put --lease=<lease> a")
    ctl.run("put", f"--lease={lid}", k + "b", "2", label="put --lease=<lease> b")

    def ttl(s: str) -> str:
        # remaining TTL ticks with time; etcd lists attached keys in Go map order (random): sort them.
        s = re.sub(r"remaining\(\d+s\)", "remaining(<n>s)", ctl.text(s))
        return re.sub(r"attached keys\(\[(.*?)\]\)", lambda m: f"attached keys({sorted(m.group(1).split())})", s)

    ctl.run("lease", "timetolive", lid, out=ttl, label="timetolive")
    ctl.run("lease", "timetolive", "--keys", lid, out=ttl, label="timetolive --keys")
    ctl.run("lease", "keep-alive", "--once", lid, label="keep-alive --once")
    ctl.run("put", "--ignore-lease", k + "a", "3")
    ctl.run("lease", "revoke", lid, label="revoke")
    ctl.run("get", "--prefix", k)
    ctl.run("lease", "revoke", lid, label="revoke again")
    ctl.run("lease", "timetolive", lid, label="timetolive after revoke")


@scenario(extra_args=())
def scenario_snapshot(ctl: Ctl) -> None:
    # A fresh server, so the snapshot's revision and key count are deterministic.
    ctl.run("put", P + "snap/a", "1")
    ctl.run("put", P + "snap/b", "2")
    ctl.run("del", P + "snap/b")
    with tempfile.TemporaryDirectory(prefix="e2e-snap-") as tmp:
        ctl.alias(tmp, "<dir>")
        db = f"{tmp}/s.db"
        ctl.run("snapshot", "save", db, label="snapshot save <dir>/s.db")

        def status(s: str) -> Any:
            doc = json.loads(s)
            return {"revision": doc["revision"], "totalKey": doc["totalKey"], "has hash and size": len(doc) == 4}

        ctl.run("snapshot", "status", "-w", "json", db, out=status, label="snapshot status -w json")
        restored = f"{tmp}/restored"
        ctl.run("snapshot", "restore", db, f"--data-dir={restored}", label="snapshot restore")
        listing = sorted(os.listdir(restored)) if os.path.isdir(restored) else None
        ctl.transcript.append(("ls <dir>/restored", 0, listing, []))


# --- the test -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_servers() -> Iterator[dict[str, ServerProcess]]:
    servers: dict[str, ServerProcess] = {}
    try:
        for target in TARGETS:
            servers[target] = _start(target)
        yield servers
    finally:
        for s in servers.values():
            s.cleanup()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_etcdctl(name: str, shared_servers: dict[str, ServerProcess]) -> None:
    fn, extra_args = SCENARIOS[name]
    transcripts: dict[str, list[Any]] = {}
    for target in TARGETS:
        if extra_args is None:
            ctl = Ctl(shared_servers[target])
            fn(ctl)
        else:
            server = _start(target, extra_args)
            try:
                ctl = Ctl(server)
                fn(ctl)
            finally:
                server.cleanup()
        transcripts[target] = ctl.transcript
    assert all(transcripts.values()), "a scenario must run commands"
    if "etcd" in transcripts:
        # The reference run must itself be sane: no scenario is all failures.
        assert any(code == 0 for _, code, _, _ in transcripts["etcd"])
    if len(transcripts) == 2:
        assert transcripts["etcdkit"] == transcripts["etcd"]
