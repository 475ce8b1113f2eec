#!/usr/bin/env python3
"""Regenerate the protobuf/gRPC Python modules from ``src/etcdkit/api/pb/*.proto``.

Usage: ``python scripts/gen_proto.py`` writes the modules next to the .proto
files; ``python scripts/gen_proto.py --check`` regenerates into a temporary
directory and exits 1 if anything differs from what is committed (CI runs it).

Needs ``grpcio-tools`` and ``mypy-protobuf`` (the ``dev`` extra).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PB_DIR = SRC / "etcdkit" / "api" / "pb"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py", "_pb2_grpc.pyi")


def generate(out_root: Path) -> list[Path]:
    """Run protoc over every .proto file; return the generated files (relative to out_root)."""
    protos = sorted(p.relative_to(SRC).as_posix() for p in PB_DIR.glob("*.proto"))
    plugin = shutil.which("protoc-gen-mypy")
    plugin_grpc = shutil.which("protoc-gen-mypy_grpc")
    if plugin is None or plugin_grpc is None:
        sys.exit("mypy-protobuf is not installed (pip install -e '.[dev]')")
    cmd = [
        sys.executable, "-m", "grpc_tools.protoc", f"-I{SRC}",
        f"--python_out={out_root}", f"--grpc_python_out={out_root}",
        f"--plugin=protoc-gen-mypy={plugin}", f"--plugin=protoc-gen-mypy_grpc={plugin_grpc}",
        f"--mypy_out={out_root}", f"--mypy_grpc_out={out_root}", *protos,
    ]
    subprocess.run(cmd, check=True, cwd=SRC)
    gen_dir = out_root / "etcdkit" / "api" / "pb"
    return sorted(p.relative_to(gen_dir) for p in gen_dir.iterdir() if p.name.endswith(GENERATED_SUFFIXES))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed modules are stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generated = generate(out)
        gen_dir = out / "etcdkit" / "api" / "pb"
        committed = sorted(p.name for p in PB_DIR.iterdir() if p.name.endswith(GENERATED_SUFFIXES))
        if args.check:
            stale = [
                str(n)
                for n in generated
                if not (PB_DIR / n).exists() or not filecmp.cmp(gen_dir / n, PB_DIR / n, shallow=False)
            ]
            extra = [n for n in committed if Path(n) not in generated]
            if stale or extra:
                print(f"generated protobuf modules are stale: {stale + extra}; run scripts/gen_proto.py")
                return 1
            print(f"protobuf modules up to date ({len(generated)} files)")
            return 0
        for name in committed:
            (PB_DIR / name).unlink()
        for name in generated:
            shutil.copyfile(gen_dir / name, PB_DIR / name)
        print(f"wrote {len(generated)} files to {PB_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
