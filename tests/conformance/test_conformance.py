"""Runs every registered conformance case against real etcd and etcdkit and
asserts identical transcripts (see ``harness.py`` for the normalisation)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import grpc
import pytest

from .conftest import TARGETS, start_target
from .harness import CASES, CaseSpec, Conn

# Import every cases_*.py module so their @case functions register.
for _mod in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _mod.name.startswith("cases_"):
        importlib.import_module(f"{__package__}.{_mod.name}")


def _run(spec: CaseSpec, channel: grpc.Channel) -> list[object]:
    conn = Conn(channel=channel, ns=f"/conformance/{spec.name}/".encode())
    spec.fn(conn)
    return conn.transcript


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str, channels: dict[str, grpc.Channel]) -> None:
    spec = CASES[name]
    transcripts: dict[str, list[object]] = {}
    if spec.fresh or spec.extra_args:
        for target in TARGETS:
            server = start_target(target, spec.extra_args)
            try:
                with grpc.insecure_channel(server.endpoint) as ch:
                    transcripts[target] = _run(spec, ch)
            finally:
                server.cleanup()
    else:
        for target in TARGETS:
            transcripts[target] = _run(spec, channels[target])
    assert all(transcripts.values()), "a conformance case must record observations"
    if len(transcripts) == 2:
        assert transcripts["etcdkit"] == transcripts["etcd"]
