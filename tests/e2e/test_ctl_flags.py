"""Global flags, help, usage errors and environment variables: etcdkit vs etcdctl, byte for byte."""

from __future__ import annotations

import pytest

from tests.e2e.ctl_harness import Tools, assert_same

HELP_CASES = [
    [], ["--help"], ["-h"], ["help"], ["help", "get"], ["help", "member", "list"], ["help", "nosuch"],
    ["get", "--help"], ["put", "-h"], ["member"], ["member", "nosuch"], ["endpoint"], ["endpoint", "health", "-h"],
    ["lease"], ["user"], ["role", "grant-permission", "--help"], ["snapshot", "restore", "--help"], ["check"],
    ["completion"], ["watch", "--help"], ["txn", "-h"], ["auth"], ["alarm"], ["version", "--help"],
]

ERROR_CASES = [
    ["--foo"], ["--foo", "get"], ["get", "--foo", "k"], ["get", "-x"], ["get", "k", "-w"], ["get", "--rev=x", "k"],
    ["get", "--rev", "99999999999999999999", "k"], ["get", "--prefix=maybe", "k"], ["nosuch"], ["gett"], ["e"],
    ["get"], ["put"], ["del"], ["del", "a", "b", "c"], ["get", "k", "-w", "xml"], ["get", "k", "--consistency=x"],
    ["get", "k", "--order=sideways"], ["get", "k", "--sort-by=colour"], ["get", "k", "--prefix", "--from-key"],
    ["get", "a", "b", "--prefix"], ["put", "k", "v", "--lease=zz"], ["put", "k", "v", "--ignore-value"],
    ["--dial-timeout=abc", "get", "k"], ["--command-timeout", "5", "get", "k"], ["member", "remove"],
    ["member", "remove", "xyz"], ["member", "add"], ["member", "add", "n"], ["member", "update", "1"],
    ["lease", "grant"], ["lease", "grant", "abc"], ["lease", "revoke", "zz"], ["lease", "timetolive"],
    ["lease", "keep-alive"], ["compaction"], ["compaction", "x"], ["move-leader"], ["move-leader", "zz"],
    ["lock"], ["elect"], ["elect", "e"], ["elect", "-l", "e", "p"], ["user", "add"], ["user", "get"],
    ["user", "grant-role", "u"], ["role", "add"], ["role", "grant-permission", "r", "read"],
    ["role", "grant-permission", "r", "rw", "k"], ["role", "revoke-permission", "r"], ["snapshot", "save"],
    ["auth", "enable", "x"], ["txn", "x"], ["watch"], ["watch", "a", "b", "--prefix"], ["watch", "k", "--"],
    ["-w", "json", "--hex=maybe", "get", "k"], ["--endpoints", "", "get", "k"], ["get", "--limit", "0x10", "zz"],
    ["ge", "nokey"], ["mem", "li", "-w", "xml"], ["get", "k", "--", "--prefix"],
]


@pytest.mark.parametrize("args", HELP_CASES, ids=lambda a: " ".join(a) or "<none>")
def test_help_output(tools: Tools, args: list[str]) -> None:
    assert_same(*tools.pair(args))


@pytest.mark.parametrize("args", ERROR_CASES, ids=lambda a: " ".join(a))
def test_usage_errors(tools: Tools, args: list[str]) -> None:
    assert_same(*tools.pair(args))


def test_flag_forms(tools: Tools) -> None:
    tools.ctl("put", "flagkey", "v1")
    for args in (["get", "flagkey", "-wjson"], ["get", "flagkey", "-w=fields"], ["-w", "json", "get", "flagkey"],
                 ["get", "--write-out", "fields", "flagkey"], ["get", "flagkey", "--hex"], ["--hex=true", "get",
                 "flagkey"], ["get", "flagkey", "--keys-only=false"], ["get", "--", "flagkey"]):
        assert_same(*tools.pair(args))


def test_env_vars(tools: Tools) -> None:
    tools.ctl("put", "envkey", "v")
    cases = [
        {"ETCDCTL_WRITE_OUT": "json"},
        {"ETCDCTL_HEX": "true"},
        {"ETCDCTL_HEX": "maybe"},
        {"ETCDCTL_DIAL_TIMEOUT": "zz"},
        {"ETCDCTL_FOO": "1"},
        {"ETCDCTL_API": "3"},
        {"ETCDCTL_PREFIX": "true"},
    ]
    for env in cases:
        assert_same(*tools.pair(["get", "envkey"], env=env))
    # a flag given both ways is a fatal conflict
    assert_same(*tools.pair(["--endpoints", tools.endpoint, "get", "envkey"]))


def test_unreachable_endpoint(tools: Tools) -> None:
    args = ["--endpoints=127.0.0.1:1", "--command-timeout=1s", "get", "k"]
    assert_same(*tools.pair(args))


def test_version(tools: Tools) -> None:
    assert_same(*tools.pair(["version"]))
    assert_same(*tools.pair(["version", "-w", "json"]))


def test_debug_dumps_settings(tools: Tools) -> None:
    a = tools.run("etcdctl", ["--debug", "get", "nokey"])
    b = tools.run("etcdkit", ["--debug", "get", "nokey"])
    settings = [line for line in a.stderr.splitlines() if line.startswith(b"ETCDCTL_")]
    assert len(settings) == 18
    assert [line for line in b.stderr.splitlines() if line.startswith(b"ETCDCTL_")] == settings
    assert (b.stdout, b.rc) == (a.stdout, a.rc)


def test_no_traceback_without_debug(tools: Tools) -> None:
    r = tools.run("etcdkit", ["--cacert=/nonexistent/ca.pem", "get", "k"])
    assert r.rc != 0
    assert b"Traceback" not in r.stderr
    r = tools.run("etcdkit", ["--debug", "--cacert=/nonexistent/ca.pem", "get", "k"])
    assert b"Traceback" in r.stderr


def test_failover_to_second_endpoint(tools: Tools) -> None:
    tools.ctl("put", "fo/k", "v")
    assert_same(*tools.pair(["--endpoints", f"127.0.0.1:1,{tools.endpoint}", "get", "fo/k"]))
