"""Shared argument parsing for the examples: ``--endpoints host:port[,host:port...]``."""

from __future__ import annotations

import argparse


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--endpoints",
        default="127.0.0.1:2379",
        help="comma-separated etcd endpoints (etcdkit serve or real etcd); default 127.0.0.1:2379",
    )
    return p


def endpoints(args: argparse.Namespace) -> list[str]:
    return [e.strip() for e in str(args.endpoints).split(",") if e.strip()]
