"""check perf, shell completion and the progress/extension features (etcdkit-only behaviour is checked directly)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.e2e.ctl_harness import Tools, assert_same, base_env


def test_check_perf_input_errors(tools: Tools) -> None:
    assert_same(*tools.pair(["check", "perf", "--load=q"]))
    tools.ctl("put", "/perf-busy/x", "1")
    assert_same(*tools.pair(["check", "perf", "--prefix=/perf-busy/"]))


def test_check_perf_short_run(tools: Tools) -> None:
    r = tools.run("etcdkit", ["check", "perf", "--duration=2", "--auto-compact", "--auto-defrag"], timeout=60)
    lines = r.stdout.decode().splitlines()
    assert re.fullmatch(r"(PASS: Throughput is|FAIL: Throughput too low:) \d+ writes/s", lines[-4]), lines
    assert re.fullmatch(r"(PASS|FAIL): Slowest request( took| took too long:) \d+\.\d{6}s", lines[-3]), lines
    assert re.fullmatch(r"(PASS: Stddev is|FAIL: Stddev too high:) \d+\.\d{6}s", lines[-2]), lines
    assert lines[-1] in ("PASS", "FAIL")
    assert r.rc == (0 if lines[-1] == "PASS" else 1)
    assert tools.ctl("get", "/etcdctl-check-perf/", "--prefix", "--keys-only").stdout == b""


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completion(tools: Tools) -> None:
    script = tools.run("etcdkit", ["completion", "bash"]).stdout.decode()
    probe = script + (
        "\nCOMP_WORDS=(etcdkit member l); COMP_CWORD=2; _etcdkit; echo \"${COMPREPLY[*]}\""
        "\nCOMP_WORDS=(etcdkit get --pre); COMP_CWORD=2; _etcdkit; echo \"${COMPREPLY[*]}\""
        "\nCOMP_WORDS=(etcdkit -w j); COMP_CWORD=2; _etcdkit; echo \"${COMPREPLY[*]}\"\n"
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, env=base_env(None), check=True).stdout
    assert out.decode().splitlines() == ["list", "--prefix", "json"]


def test_count_only_extension(tools: Tools) -> None:
    tools.ctl("put", "co/a", "1")
    tools.ctl("put", "co/b", "2")
    r = tools.run("etcdkit", ["get", "co/", "--prefix", "--count-only"])
    assert (r.stdout, r.rc) == (b"2\n", 0)


def test_auth_status_extension(tools: Tools) -> None:
    """etcdctl 3.5's ``auth status`` (hidden); etcd 3.4 servers do not implement the RPC."""
    r = tools.run("etcdkit", ["auth", "status"])
    if r.rc == 0:
        assert re.fullmatch(rb"Authentication Status: (true|false)\nAuthRevision: \d+\n", r.stdout), r
    else:
        assert b"Unimplemented" in r.stderr and b"Traceback" not in r.stderr, r
