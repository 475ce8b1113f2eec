"""Fixtures for the CLI end-to-end tests: one server per module, real etcd by default.

``server`` is parametrised over ``etcd`` and ``etcdkit``; both run unless the environment variable
``ETCDKIT_CTL_TARGETS`` narrows them (e.g. ``ETCDKIT_CTL_TARGETS=etcd``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from etcdkit.testing import EtcdkitProcess, EtcdProcess, ServerProcess
from tests.e2e.ctl_harness import ETCDCTL, Tools


def _enabled(name: str) -> bool:
    targets = os.environ.get("ETCDKIT_CTL_TARGETS", "etcd,etcdkit")
    return name in [t.strip() for t in targets.split(",")]


@pytest.fixture(scope="module", params=["etcd", "etcdkit"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    name = request.param
    if not _enabled(name):
        pytest.skip(f"{name} not in ETCDKIT_CTL_TARGETS")
    if not shutil.which(ETCDCTL):
        pytest.skip("etcdctl not installed")
    if name == "etcd" and EtcdProcess.binary() is None:
        pytest.skip("etcd not installed")
    proc: ServerProcess = EtcdProcess() if name == "etcd" else EtcdkitProcess()
    with proc:
        yield proc


@pytest.fixture(scope="module")
def tools(server: ServerProcess) -> Tools:
    return Tools(server.endpoint)
