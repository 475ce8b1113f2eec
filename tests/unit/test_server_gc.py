"""``etcdkit serve`` tunes the garbage collector for a long-running server (``tune_gc``)."""

from __future__ import annotations

import json
import subprocess
import sys

from etcdkit.server.main import GC_GEN0_THRESHOLD


def test_tune_gc_freezes_startup_objects_and_raises_the_first_threshold() -> None:
    # In a fresh interpreter: the collector's settings are process-wide.
    code = (
        "import gc, json; from etcdkit.server.main import tune_gc; before = gc.get_threshold(); tune_gc(); "
        "print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    before, after, frozen = json.loads(out.stdout)
    assert after == [GC_GEN0_THRESHOLD, before[1], before[2]]
    assert before[0] < GC_GEN0_THRESHOLD
    assert frozen > 1000  # the imported modules and their objects
