"""lease grant/revoke/timetolive/list/keep-alive: etcdkit vs etcdctl on the same server.

Lease IDs are allocated by the server, so each tool gets its own lease from ``lease grant``; outputs
that embed the granted ID are compared after replacing that tool's ID with a placeholder.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from etcdkit.testing import wait_until
from tests.e2e.ctl_harness import Result, Tools, assert_same, base_env

FORMATS = ["simple", "json", "fields", "protobuf", "table"]
# remaining TTL may tick between the two runs
_TTL = re.compile(rb'remaining\(\d+s\)|"TTL" : \d+|"ttl":\d+')
# the server returns attached keys from a map: their order varies per call
_KEYS = re.compile(rb'("keys":\[)([^\]]*)(\])|(attached keys\(\[)([^\]]*)(\])')


def _grant(tools: Tools, ttl: int = 100) -> str:
    out = tools.ctl("lease", "grant", str(ttl)).stdout
    m = re.match(rb"lease ([0-9a-f]{16}) granted", out)
    assert m, out
    return m.group(1).decode()


def _scrub(r: Result, lease_hex: str) -> Result:
    dec = str(int(lease_hex, 16)).encode()
    out = r.stdout.replace(lease_hex.encode(), b"LEASE").replace(dec, b"LEASEDEC")
    return Result(out, r.stderr.replace(lease_hex.encode(), b"LEASE"), r.rc)


@pytest.mark.parametrize("fmt", FORMATS)
def test_grant(tools: Tools, fmt: str) -> None:
    a = tools.run("etcdctl", ["lease", "grant", "60", "-w", fmt])
    b = tools.run("etcdkit", ["lease", "grant", "60", "-w", fmt])
    assert (a.rc, a.stderr) == (b.rc, b.stderr)
    if a.rc == 0 and fmt != "protobuf":
        # Lease ids differ per grant: whole hex or decimal words of 6+ characters become N.
        def norm(x: bytes) -> bytes:
            return re.sub(rb"\b[0-9a-f]{6,}\b", b"N", re.sub(rb'"Revision" : \d+|"revision":\d+', b"R", x))

        assert norm(a.stdout) == norm(b.stdout)


@pytest.mark.parametrize("fmt", FORMATS)
def test_timetolive_and_revoke(tools: Tools, fmt: str) -> None:
    tools.ctl("put", "leased/k1", "v", "--lease=" + (lease := _grant(tools, 500)))
    tools.ctl("put", "leased/k2", "v", f"--lease={lease}")
    for args in (["lease", "timetolive", lease], ["lease", "timetolive", lease, "--keys"]):
        a, b = tools.pair([*args, "-w", fmt])
        if fmt == "protobuf":
            assert (a.rc, a.stderr) == (b.rc, b.stderr)
            continue
        # remaining TTL may tick between the two runs
        def norm(x: bytes) -> bytes:
            x = _TTL.sub(b"TTL", x)
            x = _KEYS.sub(lambda m: (m.group(1) or m.group(4)) + b",".join(
                sorted((m.group(2) or m.group(5)).replace(b" ", b",").split(b","))) + b"]", x)
            return b"\n".join(sorted(x.split(b"\n"))) if fmt == "fields" else x

        assert_same(a, b, norm)
    a, b = tools.pair(["lease", "revoke", lease, "-w", fmt], setup=None)
    if fmt in ("simple", "json", "fields"):  # the first revoke wins, the second finds no lease
        assert a.rc == 0 and (fmt != "simple" or a.stdout == f"lease {lease} revoked\n".encode())
        assert b.rc == 1 and b"requested lease not found" in b.stderr
    assert_same(*tools.pair(["lease", "timetolive", lease, "-w", fmt]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_revoke_each(tools: Tools, fmt: str) -> None:
    la, lb = _grant(tools), _grant(tools)
    a = tools.run("etcdctl", ["lease", "revoke", la, "-w", fmt])
    b = tools.run("etcdkit", ["lease", "revoke", lb, "-w", fmt])
    if fmt == "protobuf":
        assert (a.rc, a.stderr) == (b.rc, b.stderr)
    else:
        assert_same(_scrub(a, la), _scrub(b, lb), lambda x: re.sub(rb'"Revision" : \d+|"revision":\d+', b"R", x))


@pytest.mark.parametrize("fmt", FORMATS)
def test_list(tools: Tools, fmt: str) -> None:
    _grant(tools)
    assert_same(*tools.pair(["lease", "list", "-w", fmt]))


@pytest.mark.parametrize("fmt", FORMATS)
def test_keep_alive_once(tools: Tools, fmt: str) -> None:
    lease = _grant(tools, 1000)
    a, b = tools.pair(["lease", "keep-alive", "--once", lease, "-w", fmt])
    assert_same(a, b)
    assert_same(*tools.pair(["lease", "keep-alive", "--once", "abcdef", "-w", fmt]))


def test_keep_alive_stream(tools: Tools) -> None:
    lease = _grant(tools, 30)
    outs = []
    for tool in ("etcdctl", "etcdkit"):
        p = subprocess.Popen(tools.command(tool, ["lease", "keep-alive", lease]), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=base_env(tools.endpoint))
        try:
            assert p.stdout is not None
            line = p.stdout.readline()
        finally:
            p.terminate()
            p.communicate(timeout=10)
        outs.append(line)
    assert outs[0] == outs[1] == f"lease {lease} keepalived with TTL(30)\n".encode()


def test_keep_alive_until_revoked(tools: Tools) -> None:
    outs = []
    for tool in ("etcdctl", "etcdkit"):
        lease = _grant(tools, 30)
        p = subprocess.Popen(tools.command(tool, ["lease", "keep-alive", lease]), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=base_env(tools.endpoint))
        assert p.stdout is not None
        first = p.stdout.readline()
        tools.ctl("lease", "revoke", lease)
        try:
            out, err = p.communicate(timeout=30)
        finally:
            if p.poll() is None:
                p.kill()
                p.communicate()
        outs.append((first + out).replace(lease.encode(), b"LEASE") + b"|" + err + b"|" + str(p.returncode).encode())
    assert outs[0] == outs[1]
    assert b"expired or revoked" in outs[0]


def test_lease_errors(tools: Tools) -> None:
    assert_same(*tools.pair(["lease", "grant", "99999999999"]))
    assert_same(*tools.pair(["lease", "revoke", "1234"]))
    assert_same(*tools.pair(["lease", "timetolive", "1234", "--keys"]))
    wait_until(lambda: True, 1)
