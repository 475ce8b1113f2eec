"""Every example runs to completion against both servers and prints what it promises."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

CASES = {
    "lock": (["lock.py", "--hold", "0.1"], "fencing token="),
    "election": (["election.py", "--lead", "0.1"], "resigned"),
    "stm": (["stm_transfer.py", "--workers", "4"], "sum stays 200"),
    "heartbeat": (["heartbeat.py", "--duration", "1", "--interval", "0.2"], "etcdkit_watch_heartbeat_alarm"),
    "stock_watcher": (["stock_watcher.py", "--demo"], "110: BUY MORE"),
    "cache": (["cache.py", "--put", "/app/x=1", "--duration", "0.1"], "/app/x = 1"),
    "session": (["session.py", "--duration", "0.1"], "still alive"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_example_runs(endpoint: str, case: str) -> None:
    argv, expected = CASES[case]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), *sys.path])}
    r = subprocess.run(
        [sys.executable, str(EXAMPLES / argv[0]), "--endpoints", endpoint, *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=EXAMPLES,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert expected in r.stdout, r.stdout
