"""Private virtualenvs for the benchmarks' third-party clients.

Contract: ``ensure_venv(path, requirements)`` returns the virtualenv's python,
creating the environment and ``pip install``-ing ``requirements`` on first use
only (an existing ``bin/python`` is trusted as is). The other clients need
protobuf versions that clash with etcdkit's, so each gets its own environment
and runs in its own process.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["AETCD_REQUIREMENTS", "ETCD3_REQUIREMENTS", "ensure_venv"]

# python-etcd3 0.12.0 needs protobuf < 4 and the pre-7 tenacity API.
ETCD3_REQUIREMENTS: tuple[str, ...] = ("etcd3==0.12.0", "protobuf<4", "tenacity<7")
AETCD_REQUIREMENTS: tuple[str, ...] = ("aetcd==1.0.0",)


def ensure_venv(venv: Path, requirements: Sequence[str]) -> Path:
    """The python of ``venv``, created with ``requirements`` installed if it does not exist yet."""
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *requirements], check=True)
    return py
