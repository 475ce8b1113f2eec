"""The cobra/pflag-compatible parser and the lazy-import contract, without a server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from etcdkit.ctl._cli import UsageError, parse, parse_duration, render_help
from etcdkit.ctl._spec import ROOT
from tests.e2e.ctl_harness import base_env


def test_interspersed_flags_and_dash() -> None:
    inv = parse(["get", "k", "--prefix", "-w", "json", "--", "--not-a-flag"])
    assert inv.command.name == "get"
    assert inv.args == ["k", "--not-a-flag"]
    assert inv.args_len_at_dash == 1
    assert inv.values["prefix"] is True and inv.values["write-out"] == "json"
    assert {"prefix", "write-out"} <= inv.changed


def test_short_forms_and_prefix_matching() -> None:
    assert parse(["ge", "k", "-wjson"]).values["write-out"] == "json"
    assert parse(["mem", "li", "-w=fields"]).command.path() == ["member", "list"]
    assert parse(["--endpoints", "a:1,b:2", "get", "k"]).values["endpoints"] == ["a:1", "b:2"]


@pytest.mark.parametrize(("argv", "message"), [
    (["get", "--nope"], "unknown flag: --nope"),
    (["get", "-z"], "unknown shorthand flag: 'z' in -z"),
    (["get", "-w"], "flag needs an argument: 'w' in -w"),
    (["get", "--rev", "x"], 'invalid argument "x" for "--rev" flag: strconv.ParseInt: parsing "x": invalid syntax'),
    (["nosuch"], 'unknown command "nosuch" for "etcdctl"'),
])
def test_usage_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(argv)
    assert str(info.value) == message


def test_durations() -> None:
    assert parse_duration("5s") == 5.0
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("250ms") == 0.25
    with pytest.raises(ValueError, match='time: invalid duration "x"'):
        parse_duration("x")


def test_help_starts_like_etcdctl() -> None:
    assert render_help(ROOT).startswith("NAME:\n\tetcdctl - A simple command line client for etcd3.\n\nUSAGE:\n")


def test_help_path_imports_no_grpc() -> None:
    code = "import sys; from etcdkit.ctl.main import main; main(['get', '--help']); print('grpc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=base_env(None), check=True).stdout
    assert out.strip().endswith(b"False")


def test_bench_hook_reports_missing_module() -> None:
    r = subprocess.run([sys.executable, "-m", "etcdkit", "bench", "--help"], capture_output=True, env=base_env(None),
                       check=False)
    try:
        import etcdkit.bench.main  # noqa: F401
    except ImportError:
        assert r.returncode == 1
        assert b"etcdkit bench is not available" in r.stderr
