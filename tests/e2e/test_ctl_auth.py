"""auth, user and role commands (and --user/--password token auth): etcdkit vs etcdctl."""

from __future__ import annotations

import pytest

from tests.e2e.ctl_harness import Tools, assert_same, normalise_revisions

FORMATS = ["simple", "json", "fields", "protobuf", "table"]


def _reset(tools: Tools) -> None:
    for args in (["user", "delete", "alice"], ["role", "delete", "reader"]):
        tools.run("etcdctl", args)


def _with_user_and_role(tools: Tools) -> None:
    _reset(tools)
    tools.ctl("user", "add", "alice", "--new-user-password=pw")
    tools.ctl("role", "add", "reader")


AUTH_CASES = [
    (["user", "add", "alice", "--new-user-password=pw"], _reset),
    (["user", "add", "alice:pw"], _reset),
    (["user", "add", ":pw"], _reset),
    (["user", "add", "alice", "--no-password"], _reset),
    (["user", "add", "alice", "--interactive=false"], _reset),
    (["user", "add", "alice", "--new-user-password=pw"], _with_user_and_role),
    (["user", "get", "alice"], _with_user_and_role),
    (["user", "get", "nobody"], _with_user_and_role),
    (["user", "list"], _with_user_and_role),
    (["user", "passwd", "alice", "--interactive=false"], _with_user_and_role),
    (["user", "grant-role", "alice", "reader"], _with_user_and_role),
    (["user", "grant-role", "alice", "nosuchrole"], _with_user_and_role),
    (["user", "revoke-role", "alice", "reader"], _with_user_and_role),
    (["user", "delete", "alice"], _with_user_and_role),
    (["user", "delete", "alice"], _reset),
    (["role", "add", "reader"], _reset),
    (["role", "add", "reader"], _with_user_and_role),
    (["role", "get", "reader"], _with_user_and_role),
    (["role", "list"], _with_user_and_role),
    (["role", "delete", "reader"], _with_user_and_role),
    (["role", "grant-permission", "reader", "read", "k"], _with_user_and_role),
    (["role", "grant-permission", "reader", "readwrite", "a", "z"], _with_user_and_role),
    (["role", "grant-permission", "reader", "write", "p/", "--prefix"], _with_user_and_role),
    (["role", "grant-permission", "reader", "read", "f", "--from-key"], _with_user_and_role),
    (["role", "grant-permission", "reader", "read", "", "--prefix"], _with_user_and_role),
    (["role", "grant-permission", "reader", "read", "a", "b", "--prefix"], _with_user_and_role),
    (["role", "grant-permission", "reader", "bogus", "k"], _with_user_and_role),
    (["role", "grant-permission", "nosuch", "read", "k"], _with_user_and_role),
    (["role", "revoke-permission", "reader", "k"], _with_user_and_role),
    (["auth", "disable"], _reset),
    (["auth", "enable"], _reset),
    (["user", "add", "alice"], _reset),  # interactive: two prompts, stdin has one line -> mismatch
    (["user", "passwd", "alice"], _with_user_and_role),
]


# every case in simple format, the successful commands of each kind in every format
_EVERY_FORMAT = {0, 6, 8, 9, 10, 12, 13, 15, 17, 18, 19, 20, 28}
AUTH_RUNS = [(case, fmt) for i, case in enumerate(AUTH_CASES) for fmt in FORMATS
             if fmt == "simple" or i in _EVERY_FORMAT]


@pytest.mark.parametrize(("case", "fmt"), AUTH_RUNS,
                         ids=lambda c: " ".join(c[0]) + "/" + c[1].__name__ if isinstance(c, tuple) else c)
def test_auth_commands(tools: Tools, case: tuple[list[str], object], fmt: str) -> None:
    args, setup = case
    assert callable(setup)
    assert_same(*tools.pair([*args, "-w", fmt], stdin=b"secret\n", setup=lambda: setup(tools)),
                normalise_revisions)


def test_role_get_ranges(tools: Tools) -> None:
    _with_user_and_role(tools)
    for perm in (["read", "k"], ["write", "a", "z"], ["readwrite", "p/", "--prefix"], ["read", "f", "--from-key"],
                 ["write", "", "--from-key"]):
        tools.ctl("role", "grant-permission", "reader", *perm)
    tools.ctl("user", "grant-role", "alice", "reader")
    for fmt in ("simple", "json", "fields", "protobuf"):
        assert_same(*tools.pair(["role", "get", "reader", "-w", fmt]))
        assert_same(*tools.pair(["user", "get", "alice", "-w", fmt]))
        assert_same(*tools.pair(["user", "get", "alice", "--detail", "-w", fmt]))
    for perm, revoke in ((["readwrite", "p/", "--prefix"], ["p/", "--prefix"]), (["write", "a", "z"], ["a", "z"]),
                         (["read", "f", "--from-key"], ["f", "--from-key"]), (["read", "k"], ["k"])):
        assert_same(*tools.pair(["role", "revoke-permission", "reader", *revoke],
                                setup=lambda perm=perm: tools.ctl("role", "grant-permission", "reader", *perm)))


def test_authenticated_session(tools: Tools) -> None:
    tools.run("etcdctl", ["user", "add", "root:rootpw"])
    tools.run("etcdctl", ["user", "grant-role", "root", "root"])
    tools.ctl("put", "secret/k", "v")
    tools.ctl("auth", "enable")
    try:
        assert_same(*tools.pair(["get", "secret/k"]))  # no token: permission denied / user empty
        assert_same(*tools.pair(["--user=root:rootpw", "get", "secret/k"]))
        assert_same(*tools.pair(["--user=root", "--password=rootpw", "get", "secret/k", "-w", "json"]))
        assert_same(*tools.pair(["--user=root:wrong", "get", "secret/k"]))
        assert_same(*tools.pair(["--user=nobody:x", "put", "secret/k", "w"]))
        assert_same(*tools.pair(["--user=root:rootpw", "user", "list"]))
        assert_same(*tools.pair(["--user=root:rootpw", "--password=x", "get", "k"]))
        assert_same(*tools.pair(["--user=root", "get", "secret/k"], stdin=b"rootpw\n"))  # prompted
    finally:
        tools.ctl("--user=root:rootpw", "auth", "disable")
    assert_same(*tools.pair(["auth", "disable"]))


def test_interactive_password_prompts(tools: Tools) -> None:
    assert_same(*tools.pair(["user", "add", "alice"], stdin=b"pw\npw\n", setup=lambda: _reset(tools)))
    assert_same(*tools.pair(["user", "passwd", "alice"], stdin=b"pw2\npw2\n", setup=lambda: _with_user_and_role(tools)))
